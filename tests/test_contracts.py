"""The typed contracts between the stages: the manifest (one writer, one reader that takes
what earlier versions wrote), the record's harness fields, and command-line scorer settings
that live in the task's config (so in its hash, the manifest and compare's rescoring)."""

from __future__ import annotations

import json

import pytest
from run_builders import GEN_TASK, generation_run

from janus_eval.core.manifest import Manifest, ModelInfo, TaskEntry
from janus_eval.core.record import HARNESS_KEYS, INTERNAL_KEYS, Record, dataset_columns, record_id
from janus_eval.core.sample import Sample
from janus_eval.score.judges.vqa import demo_vqa_judge
from janus_eval.solve.pipeline import sample_record
from janus_eval.store.run_info import run_info
from janus_eval.store.run_store import RunStore
from janus_eval.tasks.dpgbench import questions as dpg_questions
from janus_eval.tasks.registry import load_task, with_scoring_overrides


# --- the manifest ----------------------------------------------------------------------------
def full_manifest() -> Manifest:
    task = load_task("pope")
    return Manifest(
        run_id="r1", created="2026-01-02T03:04:05+00:00", updated="2026-01-02T04:00:00+00:00",
        model=ModelInfo.from_description({"model": "janus-tiny", "fingerprint": "abc", "dtype": "float32",
                                          "device": "cpu", "roles": ["<|User|>", "<|Assistant|>"]}),
        seed=3, demo=True, batch_size=8, world_size=1, data_workers=0, protocol=["janus-pro"],
        versions={"torch": "2.x"}, git_sha="deadbeef", judge={"llm": None, "vqa": None, "geneval": None, "demo": True},
        scoring_overrides={"csv": "q.csv"},
        tasks={"pope": TaskEntry(config=json.loads(json.dumps(task.to_dict())), config_hash=task.config_hash(),
                                 data={"kind": "demo", "path": "pope/demo.parquet"}, n_samples=4, limit=None,
                                 resumed_samples=0)},
        timings={"model_load_s": 1.0, "pope": {"answer_s": 0.1, "score_s": 0.2}},
    )  # fmt: skip


def test_manifest_round_trips_through_its_json(tmp_path):
    manifest = full_manifest()
    again = Manifest.from_json(manifest.to_json())
    assert again == manifest
    assert again.to_json() == manifest.to_json()
    store = RunStore(tmp_path / "r1")
    store.root.mkdir()
    store.write_manifest(manifest)
    assert store.read_manifest() == manifest
    assert store.read_manifest().model.dtype == "float32"


def test_manifest_keeps_the_keys_earlier_versions_wrote():
    on_disk = json.loads(full_manifest().to_json())
    assert set(on_disk) == {
        "batch_size", "created", "data_workers", "demo", "git_sha", "judge", "model", "protocol", "run_id",
        "scoring_overrides", "seed", "tasks", "timings", "updated", "versions", "world_size",
    }  # fmt: skip
    assert set(on_disk["tasks"]["pope"]) == {"config", "config_hash", "data", "n_samples", "limit", "resumed_samples"}
    assert set(on_disk["model"]) == {"model", "fingerprint", "dtype", "device", "roles"}
    assert Manifest(run_id="x").to_dict().keys().isdisjoint({"kind", "source_file", "updated"})  # a run's: unset


def test_manifest_reads_an_old_hand_built_manifest(tmp_path):
    """tests/run_builders.py writes the manifest by hand, as an earlier janus-eval did."""
    root = generation_run(tmp_path, "old")
    manifest = RunStore(root).read_manifest()
    assert manifest.run_id == "old" and manifest.created == "2026-01-02T03:04:05+00:00"
    assert manifest.model.name == "Janus-Pro-7B" and manifest.model.fingerprint == "f00dfeedbeef0123"
    entry = manifest.tasks[GEN_TASK]
    assert entry.config_hash == "gen-hash-1" and entry.config["scorer"] == "gen_fixture_scorer"
    assert entry.data is None and entry.n_samples is None and manifest.seed is None and not manifest.demo
    info = run_info(RunStore(root))
    assert (info.model, info.fingerprint, info.date) == ("Janus-Pro-7B", "f00dfeedbeef0123", "2026-01-02 03:04")
    assert info.tasks[GEN_TASK].kind == "generation" and info.tasks[GEN_TASK].scorer == "gen_fixture_scorer"
    # written back, it keeps its own keys (nothing this version would have written as null)
    assert json.loads(manifest.to_json()).keys() == json.loads((root / "manifest.json").read_text()).keys()


@pytest.mark.parametrize(
    "model, top, name, fingerprint",
    [({"name": "m1", "fingerprint": "f1"}, {}, "m1", "f1"), ({"id": "m2"}, {}, "m2", None),
     ("m3", {"fingerprint": "f3"}, "m3", "f3"), (None, {}, "unknown", None)],
)  # fmt: skip
def test_manifest_reads_the_model_however_an_older_version_spelled_it(model, top, name, fingerprint):
    manifest = Manifest.from_dict({"run_id": "r", "model": model, **top})
    assert (manifest.model.name, manifest.model.fingerprint) == (name, fingerprint)


def test_a_manifest_that_is_not_json_is_a_usage_error(tmp_path):
    from janus_eval.core.errors import UsageError

    (tmp_path / "manifest.json").write_text("[1, 2]")
    with pytest.raises(UsageError, match="not a run manifest"):
        RunStore(tmp_path).read_manifest()


# --- the record ----------------------------------------------------------------------------------
def test_record_keeps_the_harness_fields_apart_and_the_bytes_as_before():
    sample = Sample(id="adversarial/1", row={"id": "0", "question": "q?", "answer": "yes"})
    rec = sample_record(sample)
    rec.prompt, rec.prediction = "<|User|>: q?", "Yes"
    assert list(rec.to_dict()) == ["sample_id", "id", "question", "answer", "prediction", "error", "prompt"]
    assert rec.sample_id == "adversarial/1" and rec.error is None and rec.images == []
    assert rec.columns == {"question": "q?", "answer": "yes"}  # `id`: an older files' sample id, never shown
    assert dataset_columns({"sample_id": "1", "tag": "t", "score": 1.0}) == {"tag": "t"}
    assert record_id({"id": 7}) == "7" and record_id({}) is None
    assert set(HARNESS_KEYS) < INTERNAL_KEYS
    with pytest.raises(ValueError, match="not harness fields"):
        Record.new("1", {}, verdict="x")


# --- command-line scorer settings live in the task's config ---------------------------------------
def test_command_line_settings_go_into_the_tasks_whose_scorer_takes_them():
    given = {"csv": "q.csv", "official_quirks": True, "vqa_model": "mplug", "geneval_dir": "/w"}
    dpg, gen, pope = (with_scoring_overrides(load_task(n), given) for n in ("dpgbench", "geneval", "pope"))
    assert dpg.scoring["csv"] == "q.csv" and dpg.scoring["official_quirks"] is True and "geneval_dir" not in dpg.scoring
    assert gen.scoring["geneval_dir"] == "/w" and "csv" not in gen.scoring
    assert pope == load_task("pope")
    assert dpg.config_hash() != load_task("dpgbench").config_hash()
    assert gen.config_hash() != load_task("geneval").config_hash()
    assert with_scoring_overrides(load_task("dpgbench"), {}).config_hash() == load_task("dpgbench").config_hash()


def test_official_quirks_on_the_command_line_is_hashed_recorded_and_gates_compare(cli, tmp_path):
    base = ["run", "--tasks", "dpgbench", "--model", "janus-tiny", "--demo", "--limit", "1", "--no-progress",
            "--output", tmp_path]  # fmt: skip
    code, _, err = cli(*base, "--run-id", "plain")
    assert code == 0, err
    code, _, err = cli(*base, "--run-id", "quirks", "--official-quirks")
    assert code == 0, err
    plain = json.loads((tmp_path / "plain" / "manifest.json").read_text())
    quirks = json.loads((tmp_path / "quirks" / "manifest.json").read_text())
    p, q = plain["tasks"]["dpgbench"], quirks["tasks"]["dpgbench"]
    assert p["config"]["scoring"]["official_quirks"] is False and q["config"]["scoring"]["official_quirks"] is True
    assert p["config_hash"] != q["config_hash"]
    assert quirks["scoring_overrides"] == {"official_quirks": True} and plain["scoring_overrides"] == {}
    assert q["config_hash"] == with_scoring_overrides(load_task("dpgbench"), {"official_quirks": True}).config_hash()

    # compare cannot read two runs scored with different settings as one: unusable input, exit 2
    code, _, err = cli("compare", tmp_path / "plain", tmp_path / "quirks")
    assert code == 2 and "task config differs" in err and "dpgbench" in err and q["config_hash"] in err
    code, out, err = cli("compare", tmp_path / "quirks", tmp_path / "quirks")
    assert code == 0 and "no regression" in out, err  # the same settings: compared, rescored with them

    # nor is a run resumed with other settings
    code, _, err = cli(*base, "--run-id", "plain", "--official-quirks")
    assert code == 2 and "changed since run plain" in err

    # `score` the same: its --official-quirks / --vqa-model / --dpg-csv are in the task's config
    judge = demo_vqa_judge()
    judge.model.save_pretrained(tmp_path / "blip")
    judge.processor.save_pretrained(tmp_path / "blip")
    samples = tmp_path / "plain" / "dpgbench" / "samples.jsonl"
    scored = ["score", "--task", "dpgbench", samples, "--output", tmp_path, "--vqa-model", tmp_path / "blip",
              "--dpg-csv", dpg_questions.DEMO_CSV]  # fmt: skip
    code, _, err = cli(*scored, "--run-id", "s-plain")
    assert code == 0, err
    code, _, err = cli(*scored, "--run-id", "s-quirks", "--official-quirks")
    assert code == 0, err
    sp, sq = (RunStore(tmp_path / r).read_manifest() for r in ("s-plain", "s-quirks"))
    assert sq.tasks["dpgbench"].config["scoring"]["official_quirks"] is True
    assert sq.tasks["dpgbench"].config["scoring"]["vqa_model"] == str(tmp_path / "blip")
    assert sp.tasks["dpgbench"].config_hash != sq.tasks["dpgbench"].config_hash
    assert sq.scoring_overrides["official_quirks"] is True and sp.judge["vqa"]["backend"] == "transformers"
    code, _, err = cli("compare", tmp_path / "s-plain", tmp_path / "s-quirks")
    assert code == 2 and "task config differs" in err


def test_score_records_the_command_line_settings_in_the_task_config(cli, tmp_path):
    from run_builders import POPE_GOLDEN

    code, _, err = cli("score", "--task", "pope", POPE_GOLDEN, "--output", tmp_path, "--run-id", "s",
                       "--official-quirks", "--dpg-csv", tmp_path / "q.csv")  # fmt: skip
    assert code == 0, err
    manifest = RunStore(tmp_path / "s").read_manifest()
    assert manifest.kind == "score" and manifest.scoring_overrides["official_quirks"] is True
    # pope's scorer takes none of them: its config (and hash) are the YAML's
    assert manifest.tasks["pope"].config_hash == load_task("pope").config_hash()
