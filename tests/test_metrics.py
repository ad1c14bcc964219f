"""Each benchmark declares its metrics (`METRICS`: direction, unit), and `compare` reads the
directions from there; the names in analyse/tolerances.py decide only for undeclared metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_compare import FRAMES

from janus_eval.analyse.tolerances import HIGHER, LOWER, NEUTRAL, direction
from janus_eval.core.metric import Metric
from janus_eval.score.base import every_record
from janus_eval.tasks.registry import get_metrics, scorer_module

DECLARING = ["pope", "mme", "mmbench", "mmmu", "seedbench", "gqa"]


@pytest.mark.parametrize("scorer", DECLARING)
def test_a_scorer_declares_every_metric_of_its_table(scorer):
    module = scorer_module(scorer)
    metrics = module.METRICS
    assert isinstance(metrics, tuple) and all(isinstance(m, Metric) for m in metrics)
    names = [m.name for m in metrics]
    assert len(names) == len(set(names)), names
    frame = pd.DataFrame(FRAMES[scorer](np.random.default_rng(3)))
    frame["error"] = None
    table = module.score(frame, {}, None).table
    assert set(table["metric"]) <= set(names)
    assert set(module.bootstrap(frame, {}, every_record(frame))) == set(zip(table["metric"], table["subset"]))


@pytest.mark.parametrize("scorer", DECLARING)
def test_declared_directions_are_the_ones_compare_used_before(scorer):
    for metric in get_metrics(scorer).values():
        assert direction(metric.name, scorer) == direction(metric.name), metric


def test_a_declaration_decides_over_the_names(monkeypatch):
    pope = scorer_module("pope")
    monkeypatch.setattr(pope, "METRICS", (Metric("yes_ratio", True, "percent"), Metric("errors", None, "count")))
    assert direction("yes_ratio", "pope") == HIGHER and direction("errors", "pope") == NEUTRAL
    assert direction("yes_ratio") == NEUTRAL and direction("errors") == LOWER  # no scorer: the names
    assert direction("unparsed", "pope") == LOWER  # not declared: the names
    assert direction("unparsed", "no-such-scorer") == LOWER  # a scorer this install lacks: the names
    assert direction("mode", "dpgbench") == NEUTRAL  # a scorer that declares nothing: the names


def test_mme_declares_points_and_percent():
    units = {m.name: m.unit for m in get_metrics("mme").values()}
    assert units["perception"] == units["score"] == "points" and units["acc"] == "percent"
    assert units["errors"] == "count"


@pytest.mark.parametrize("bad", [{"unit": "percentage"}, {"higher_is_better": 1}])
def test_a_metric_with_a_bad_unit_or_direction_is_refused(bad):
    with pytest.raises(ValueError):
        Metric(**{"name": "x", "higher_is_better": True, "unit": "percent", **bad})
