"""SEED-Bench: task.yaml, scorer.py and what else is its own."""
