"""Resuming generation runs: lost images are drawn again, a smaller --limit keeps the
records beyond it, another seed is refused, and bad settings fail before any drawing."""

from __future__ import annotations

import json


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_generation_resume_redraws_lost_images_and_keeps_records(cli, tmp_path):
    args = ["run", "--tasks", "dpgbench", "--model", "janus-tiny", "--demo", "--output", tmp_path,
            "--run-id", "g", "--no-progress"]  # fmt: skip
    code, out, err = cli(*args, "--limit", "2")
    assert code == 0, err
    task_dir = tmp_path / "g/dpgbench"
    first = {r["sample_id"]: r for r in _records(task_dir / "samples.jsonl")}
    assert len(first) == 2
    lost_id, lost = next(iter(first.items()))
    image = task_dir / lost["images"][0]
    original = image.read_bytes()
    image.unlink()

    code, out, err = cli(*args, "--limit", "1")  # a smaller limit, and the first sample's image is gone
    assert code == 0, err
    assert image.read_bytes() == original  # drawn again, the same (seeded per image)
    again = _records(task_dir / "samples.jsonl")
    assert sorted(r["sample_id"] for r in again) == sorted(first)  # nothing beyond --limit 1 was dropped
    manifest = json.loads((tmp_path / "g/manifest.json").read_text())
    assert manifest["tasks"]["dpgbench"]["resumed_samples"] == 0  # the only sample in range was redrawn

    code, out, err = cli(*args, "--limit", "2", "--seed", "7")
    assert code == 2 and "--seed 0, not 7" in err


def test_bad_generation_settings_fail_before_any_model_work(cli, tmp_path):
    code, out, err = cli("run", "--tasks", "pope,dpgbench", "--model", "janus-tiny", "--demo", "--limit", "1",
                         "--images-per-prompt", "5", "--output", tmp_path, "--run-id", "bad")  # fmt: skip
    assert code == 2 and "--images-per-prompt must be 1 to 4" in err
    assert not (tmp_path / "bad").exists()  # pope was not run first


def test_a_missing_vqa_folder_fails_before_drawing(cli, tmp_path):
    code, out, err = cli("run", "--tasks", "dpgbench", "--model", "janus-tiny", "--limit", "1",
                         "--vqa-model", tmp_path / "nonexistent" / "blip", "--dpg-csv", tmp_path / "q.csv",
                         "--output", tmp_path, "--run-id", "v")  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1  # the question file or the judge: one line
    assert not (tmp_path / "v").exists()  # refused before any image was drawn

    from janus_eval.core.errors import UsageError
    from janus_eval.score.judges.vqa import check_vqa_spec

    try:
        check_vqa_spec(str(tmp_path / "nonexistent" / "blip"))
    except UsageError as exc:
        assert "no such folder" in str(exc)
    else:
        raise AssertionError("a missing --vqa-model folder must be refused")
    check_vqa_spec("Salesforce/blip-vqa-base")  # a hub id is left to the loader
