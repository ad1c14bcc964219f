"""Where janus-eval keeps what it downloads or builds, and the device it runs on by default."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The one cache folder: $JANUS_EVAL_CACHE, else $XDG_CACHE_HOME/janus-eval, else
    ~/.cache/janus-eval (janus-tiny, the LLM judge's replies, GenEval's and DPG-Bench's files)."""
    if os.environ.get("JANUS_EVAL_CACHE"):
        return Path(os.environ["JANUS_EVAL_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "janus-eval"


def default_device() -> str:
    """cuda when torch sees a GPU, else cpu."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
