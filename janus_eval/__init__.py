"""janus-eval: a benchmark harness for DeepSeek's Janus and Janus-Pro models."""

__version__ = "0.2.0"  # kept equal to pyproject.toml's (tests/test_cli.py checks)
