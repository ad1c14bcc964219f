"""`run --config FILE.yaml`, `--offset` and `--sample-id` through the real command line
(cli.main, in-process) on janus-tiny's demo sets: the file's options run, the command line wins
over them, a bad file is one line and exit 2, and the selection picks exactly the asked-for
samples, is recorded in the manifest and marks the run partial (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from janus_eval.data.load import load_samples
from janus_eval.store.run_info import run_info
from janus_eval.store.run_store import RunStore
from janus_eval.tasks.registry import load_task

BASE = ["--model", "janus-tiny", "--demo", "--no-progress"]


@pytest.fixture(scope="module")
def pope_ids() -> list[str]:
    """POPE's demo sample ids in the task's fixed order."""
    return [s.id for s in load_samples(load_task("pope"), demo=True).samples]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def ids_in(run: Path, task: str = "pope") -> list[str]:
    return [r["sample_id"] for r in RunStore(run).read_records(task)]


def manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text(encoding="utf-8"))


# --- --config -------------------------------------------------------------------------------
def test_config_file_runs_its_options(cli, tmp_path, pope_ids):
    config = write(tmp_path / "run.yaml", (
        "tasks: [pope]\nmodel: janus-tiny\ndemo: true\nbatch-size: 1\nlimit: 2\nprogress: false\n"
        f"output: {tmp_path / 'out'}\nrun_id: cfg\n"
    ))  # fmt: skip
    code, out, err = cli("run", "--config", config)
    assert code == 0, err
    run = tmp_path / "out" / "cfg"
    assert ids_in(run) == pope_ids[:2]
    on_disk = manifest(run)
    assert on_disk["batch_size"] == 1 and on_disk["tasks"]["pope"]["limit"] == 2
    assert on_disk["config"]["path"] == str(config.resolve())
    assert on_disk["config"]["options"]["batch-size"] == 1 and on_disk["config"]["options"]["tasks"] == ["pope"]


def test_command_line_wins_over_the_file(cli, tmp_path, pope_ids):
    config = write(tmp_path / "run.yaml", "tasks: pope,mme\nmodel: Janus-Pro-7B\nlimit: 3\nbatch_size: 2\n")
    code, _, err = cli("run", "--config", config, "--tasks", "pope", *BASE, "--limit", "1", "--batch-size", "4",
                       "--output", tmp_path, "--run-id", "wins")  # fmt: skip
    assert code == 0, err
    assert ids_in(tmp_path / "wins") == pope_ids[:1] and not (tmp_path / "wins" / "mme").exists()
    on_disk = manifest(tmp_path / "wins")
    assert on_disk["batch_size"] == 4 and on_disk["model"]["model"] == "janus-tiny"


BAD_CONFIGS = {
    # case: (file text or None for a missing file, what the one line must name)
    "missing file": (None, "no such file"),
    "not YAML": ("tasks: [pope\n", "is not YAML"),
    "not a mapping": ("- pope\n- mme\n", "not a mapping"),
    "unknown key": ("tasks: pope\nmodel: janus-tiny\nbatchsize: 4\n", "unknown key 'batchsize'; did you mean batch-size?"),
    "wrong type": ("tasks: pope\nmodel: janus-tiny\nlimit: abc\n", "key 'limit'"),
    "float for an integer": ("tasks: pope\nmodel: janus-tiny\nlimit: 2.5\n", "key 'limit'"),
    "true for an integer": ("tasks: pope\nmodel: janus-tiny\nseed: true\n", "key 'seed'"),
    "out of range": ("tasks: pope\nmodel: janus-tiny\nbatch-size: 0\n", "key 'batch-size'"),
    "bad device": ("tasks: pope\nmodel: janus-tiny\ndevice: tpu\n", "key 'device': 'tpu' is not a device"),
    "bad dtype": ("tasks: pope\nmodel: janus-tiny\ndtype: int8\n", "key 'dtype'"),
    "negative offset": ("tasks: pope\nmodel: janus-tiny\noffset: -1\n", "key 'offset'"),
    "a list for one value": ("tasks: pope\nmodel: janus-tiny\nlimit: [1, 2]\n", "key 'limit' holds a list"),
    "a key with no value": ("tasks: pope\nmodel: janus-tiny\nlimit:\n", "key 'limit' has no value"),
    "no tasks anywhere": ("model: janus-tiny\n", "missing option '--tasks'"),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_bad_config_is_one_line_and_exit_2(cli, tmp_path, case):
    text, expected = BAD_CONFIGS[case]
    config = tmp_path / "bad.yaml"
    if text is not None:
        write(config, text)
    code, _, err = cli("run", "--config", config, "--demo", "--output", tmp_path / "out")
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert str(config) in lines[0] and expected in lines[0], lines[0]
    assert not (tmp_path / "out").exists()  # checked before any work


# --- --offset and --sample-id ---------------------------------------------------------------
def test_offset_with_limit_takes_samples_n_to_n_plus_limit(cli, tmp_path, pope_ids):
    code, _, err = cli("run", "--tasks", "pope", *BASE, "--offset", "2", "--limit", "3", "--output", tmp_path,
                       "--run-id", "off")  # fmt: skip
    assert code == 0, err
    assert ids_in(tmp_path / "off") == pope_ids[2:5]
    entry = manifest(tmp_path / "off")["tasks"]["pope"]
    assert (entry["offset"], entry["limit"], entry["n_samples"]) == (2, 3, 3) and "sample_ids" not in entry
    info = run_info(RunStore(tmp_path / "off"))
    assert info.partial and info.selection == "offset 2, limit 3"


def test_sample_ids_pick_exactly_those_in_task_order(cli, tmp_path, pope_ids):
    wanted = [pope_ids[5], pope_ids[1]]
    code, _, err = cli("run", "--tasks", "pope", *BASE, "--sample-id", ",".join(wanted), "--output", tmp_path,
                       "--run-id", "ids")  # fmt: skip
    assert code == 0, err
    assert ids_in(tmp_path / "ids") == [pope_ids[1], pope_ids[5]]
    assert manifest(tmp_path / "ids")["tasks"]["pope"]["sample_ids"] == wanted
    assert run_info(RunStore(tmp_path / "ids")).selection == "2 sample ids"


def test_sample_ids_from_a_config_list(cli, tmp_path, pope_ids):
    ids = "".join(f"  - {json.dumps(i)}\n" for i in pope_ids[3:5])
    config = write(tmp_path / "ids.yaml", f"tasks: pope\nsample-id:\n{ids}")
    code, _, err = cli("run", "--config", config, *BASE, "--output", tmp_path, "--run-id", "cfg-ids")
    assert code == 0, err
    assert ids_in(tmp_path / "cfg-ids") == pope_ids[3:5]


def test_a_task_without_the_ids_is_left_out(cli, tmp_path, pope_ids):
    code, _, err = cli("run", "--tasks", "pope,mme", *BASE, "--sample-id", pope_ids[0], "--output", tmp_path,
                       "--run-id", "two")  # fmt: skip
    assert code == 0, err
    assert ids_in(tmp_path / "two") == pope_ids[:1] and not (tmp_path / "two" / "mme").exists()
    assert "skipping mme: it has none of the --sample-id ids" in err


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--tasks", "pope,mme", "--sample-id", "nope/1"], "'nope/1': no such sample in task(s) pope, mme"),
        (["--tasks", "pope", "--offset", "10000"], "--offset 10000 is past the last sample of task pope"),
    ],
    ids=["unknown sample id", "offset past the end"],
)
def test_bad_selection_is_one_line_and_exit_2(cli, tmp_path, args, expected):
    code, _, err = cli("run", *args, *BASE, "--output", tmp_path / "out")
    lines = [line for line in err.strip().splitlines() if line.startswith("error: ")]
    assert code == 2 and len(lines) == 1 and expected in lines[0], err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_resume_with_the_same_or_another_selection(cli, tmp_path, pope_ids):
    """As with --limit: the same options keep every record; another selection answers its own
    samples, scores only those and keeps the others in the samples file."""
    run = ["run", "--tasks", "pope", *BASE, "--output", tmp_path, "--run-id", "res", "--limit", "2"]
    assert cli(*run, "--offset", "1")[0] == 0
    code, _, err = cli(*run, "--offset", "1")
    assert code == 0 and "2 of 2 samples kept" in err, err
    assert ids_in(tmp_path / "res") == pope_ids[1:3]
    code, _, err = cli(*run, "--offset", "2")
    assert code == 0 and "1 of 2 samples kept" in err, err
    records = {r["sample_id"]: r for r in RunStore(tmp_path / "res").read_records("pope")}
    assert sorted(records) == sorted(pope_ids[1:4])
    assert manifest(tmp_path / "res")["tasks"]["pope"]["offset"] == 2
    scores = RunStore(tmp_path / "res").read_scores()
    assert set(scores.query("metric == 'errors'")["n"]) == {2}  # scored on the selection only


def test_report_marks_an_offset_run_partial(cli, tmp_path):
    assert cli("run", "--tasks", "pope", *BASE, "--offset", "3", "--output", tmp_path, "--run-id", "part")[0] == 0
    code, _, err = cli("report", tmp_path / "part", "-o", tmp_path / "site")
    assert code == 0, err
    md = (tmp_path / "site" / "leaderboard.md").read_text(encoding="utf-8")
    assert "part (demo) (offset 3): partial run(s)" in md
    assert "| part (demo) (offset 3) |" in md  # the label goes wherever the run's numbers go


def test_readme_lists_the_options():
    from conftest import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    real_run = text[text.index("The real run") :]
    assert all(option in real_run for option in ("--config", "--offset", "--sample-id"))
