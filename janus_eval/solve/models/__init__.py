"""Model adapters. `load_model(spec, ...)` returns the adapter for a `--model` value."""

from __future__ import annotations

from janus_eval.core.requests import Ask, Draw
from janus_eval.solve.models.base import ModelAdapter
from janus_eval.solve.models.janus import KNOWN_MODELS, JanusAdapter


def load_model(
    spec: str, device: str | None = None, dtype: str | None = None, allow_pickle: bool = False, compile: bool = False
):
    return JanusAdapter(spec, device=device, dtype=dtype, allow_pickle=allow_pickle, compile=compile)


__all__ = ["Ask", "Draw", "ModelAdapter", "JanusAdapter", "KNOWN_MODELS", "load_model"]
