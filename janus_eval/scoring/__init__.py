"""Scorers, one module per benchmark: `janus_eval.scoring.<name>.score`."""

from __future__ import annotations

import importlib
from typing import Callable

from .base import Scored

Scorer = Callable[..., Scored]


def get_scorer(name: str) -> Scorer:
    module = importlib.import_module(f"{__name__}.{name}")
    return module.score


def get_preflight(name: str) -> Callable[..., None] | None:
    """A scorer's optional `preflight(settings, judges)`: cheap checks (question files, judge
    availability) that `run` makes before a model is loaded, so bad input fails early."""
    module = importlib.import_module(f"{__name__}.{name}")
    return getattr(module, "preflight", None)
