"""Bad input gets one clear line naming the fix, exit code 2, and no lost work."""

from __future__ import annotations

import json

import numpy as np
from helpers import png_bytes, write_pope_copy
from PIL import Image

from janus_eval.data.load import ImageError, to_rgb


def test_unknown_task_lists_valid_ones(cli):
    code, out, err = cli("run", "--tasks", "pope,nosuch", "--model", "janus-tiny", "--demo")
    assert code == 2
    assert "unknown task 'nosuch'" in err and "pope" in err and "mme" in err
    assert len(err.strip().splitlines()) == 1


def test_unknown_model(cli, tmp_path):
    code, out, err = cli("run", "--tasks", "pope", "--model", "no-such-model", "--demo", "--output", tmp_path)
    assert code == 2
    assert "unknown model 'no-such-model'" in err and "Janus-Pro-7B" in err
    assert not any(tmp_path.iterdir())  # nothing written


def test_missing_data_offline_names_the_download(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf/datasets"))
    code, out, err = cli("run", "--tasks", "pope", "--model", "janus-tiny", "--output", tmp_path / "out")
    assert code == 2
    assert "lmms-lab/POPE" in err and "--data-dir" in err and "download" in err


def test_missing_local_copy(cli, tmp_path):
    code, out, err = cli("run", "--tasks", "mme", "--model", "janus-tiny", "--data-dir", tmp_path)
    assert code == 2 and "no local copy of mme" in err and "parquet" in err


def test_malformed_samples_file_names_the_line_and_writes_nothing(cli, tmp_path):
    good = '{"question_id": "1", "question": "q", "answer": "yes", "category": "random", "prediction": "Yes"}\n'
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good + good.replace('"1"', '"2"') + '{"question_id": "3", "prediction": \n')
    code, out, err = cli("score", "--task", "pope", bad, "--output", tmp_path / "out")
    assert code == 2 and "bad.jsonl:3" in err and "not valid JSON" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())

    missing = tmp_path / "missing.jsonl"
    missing.write_text('{"question_id": "1", "category": "random", "answer": "yes"}\n')
    code, out, err = cli("score", "--task", "pope", missing, "--output", tmp_path / "out")
    assert code == 2 and "missing.jsonl:1" in err and "prediction" in err

    no_answer = tmp_path / "noanswer.jsonl"
    no_answer.write_text('{"question_id": "1", "category": "random", "prediction": "yes"}\n')
    code, out, err = cli("score", "--task", "pope", no_answer, "--output", tmp_path / "out")
    assert code == 2 and "answer" in err


def test_pickle_weights_are_refused_unless_allowed(cli, tmp_path):
    from janus_eval.solve.models.tiny import tiny_path

    folder = tmp_path / "pickled"
    folder.mkdir()
    for f in tiny_path().iterdir():
        if f.suffix != ".safetensors":
            (folder / f.name).write_bytes(f.read_bytes())
    (folder / "pytorch_model.bin").write_bytes(b"not loaded")
    code, out, err = cli("run", "--tasks", "pope", "--model", folder, "--demo", "--output", tmp_path / "o")
    assert code == 2 and "--allow-pickle" in err


def test_odd_images_are_converted():
    cmyk = Image.new("CMYK", (20, 10), (0, 255, 255, 0))  # red in CMYK
    rgb = to_rgb({"bytes": png_bytes(cmyk, "JPEG"), "path": None})
    assert rgb.mode == "RGB" and rgb.getpixel((10, 5))[0] > 200 and rgb.getpixel((10, 5))[1] < 60

    deep = Image.fromarray(np.full((8, 8), 65535, dtype=np.uint16))
    assert deep.mode.startswith("I")
    rgb = to_rgb({"bytes": png_bytes(deep), "path": None})
    assert rgb.mode == "RGB" and rgb.getpixel((0, 0)) == (255, 255, 255)

    half = Image.fromarray(np.full((8, 8), 32768, dtype=np.uint16))
    assert to_rgb({"bytes": png_bytes(half), "path": None}).getpixel((0, 0))[0] == 128


def test_truncated_image_raises_image_error():
    data = png_bytes(Image.new("RGB", (64, 64), "blue"), "JPEG")
    try:
        to_rgb({"bytes": data[: len(data) // 2], "path": None})
    except ImageError as exc:
        assert "unreadable image" in str(exc)
    else:
        raise AssertionError("a truncated image must raise ImageError")


def test_run_records_bad_images_and_answers_the_rest(cli, tmp_path):
    good = png_bytes(Image.new("RGB", (40, 30), "red"))
    jpeg = png_bytes(Image.new("RGB", (40, 30), "green"), "JPEG")
    truncated = jpeg[: len(jpeg) // 2]
    cmyk = png_bytes(Image.new("CMYK", (40, 30), (255, 0, 0, 0)), "JPEG")
    deep = png_bytes(Image.fromarray(np.arange(1200, dtype=np.uint16).reshape(30, 40) * 50))
    data = write_pope_copy(tmp_path / "data", 4, images=[good, truncated, cmyk, deep])
    code, out, err = cli(
        "run", "--tasks", "pope", "--model", "janus-tiny", "--data-dir", data, "--output", tmp_path / "out",
        "--run-id", "odd", "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    records = [json.loads(line) for line in (tmp_path / "out/odd/pope/samples.jsonl").read_text().splitlines()]
    assert len(records) == 4
    errored = [r for r in records if r["error"]]
    assert len(errored) == 1 and "unreadable image" in errored[0]["error"] and errored[0]["score"] is None
    assert all(isinstance(r["prediction"], str) for r in records if not r["error"])
    scores = (tmp_path / "out/odd/scores.csv").read_text()
    assert "pope,errors,,1.0,count,4" in scores


def test_an_internal_crash_exits_3_not_1(cli, monkeypatch):
    """1 means "regression" to a CI gate: a crash must not look like one."""
    import janus_eval.tasks.registry as registry

    def boom(name):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(registry, "load_task", boom)
    code, out, err = cli("list", "tasks")
    assert code == 3 and "internal error (RuntimeError)" in err and "simulated bug" in err
