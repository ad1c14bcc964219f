"""Every command-line mistake is one line and exit 2, through the real command line, before any
work starts or any file is written (issue 16)."""

from __future__ import annotations

import pytest
from conftest import run_subprocess

RUN = ["run", "--tasks", "pope", "--model", "janus-tiny", "--demo"]

CASES = {
    "unknown option": (["run", "--bogus"], "No such option: --bogus"),
    "lmms-eval's --batch_size": ([*RUN, "--batch_size", "4"], "--batch-size"),
    "missing --tasks": (["run", "--model", "janus-tiny"], "Missing option '--tasks'"),
    "--limit 0": ([*RUN, "--limit", "0"], "'--limit'"),
    "--limit -1": ([*RUN, "--limit", "-1"], "'--limit'"),
    "--limit abc": ([*RUN, "--limit", "abc"], "'--limit'"),
    "unknown command": (["frobnicate"], "No such command 'frobnicate'"),
    "--batch-size 0": ([*RUN, "--batch-size", "0"], "'--batch-size'"),
    "--batch-size abc": ([*RUN, "--batch-size", "abc"], "'--batch-size'"),
    "--workers -1": ([*RUN, "--workers", "-1"], "'--workers'"),
    "--device tpu": ([*RUN, "--device", "tpu"], "use cpu, cuda or cuda:N"),
    "--dtype Tensor": ([*RUN, "--dtype", "Tensor"], "use bfloat16, float16, float32"),
    "--dtype int8": ([*RUN, "--dtype", "int8"], "use bfloat16, float16, float32"),
    "--images-per-prompt 0": ([*RUN, "--images-per-prompt", "0"], "'--images-per-prompt'"),
    "--temperature nan": ([*RUN, "--temperature", "nan"], "'--temperature'"),
    "--temperature 0": ([*RUN, "--temperature", "0"], "'--temperature'"),
    "--cfg nan": ([*RUN, "--cfg", "nan"], "'--cfg'"),
    "--cfg inf": ([*RUN, "--cfg", "inf"], "'--cfg'"),
    "--judge-runs 0": ([*RUN, "--judge-runs", "0"], "'--judge-runs'"),
    "compare --tolerance nan": (["compare", "a", "b", "--tolerance", "nan"], "'--tolerance'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_usage_error_is_one_line_and_exit_2(case, tmp_path):
    args, expected = CASES[case]
    if args[0] == "run":
        args = [*args, "--output", str(tmp_path / "out")]
    proc = run_subprocess(*args, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert expected in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()  # checked before any file is written


def test_underscore_option_names_the_dashed_one():
    proc = run_subprocess(*RUN, "--batch_size", "4", timeout=120)
    assert "--batch-size" in proc.stderr and proc.returncode == 2


def _pope_copy_variants(tmp_path):
    from helpers import write_pope_copy

    good = write_pope_copy(tmp_path / "good", 3) / "pope" / "test-00000-of-00001.parquet"
    data = good.read_bytes()
    variants = {"random bytes": b"PAR1" + bytes(range(256)) * 4, "cut download": data[: len(data) // 2]}
    for name, payload in variants.items():
        folder = tmp_path / name.replace(" ", "-") / "pope"
        folder.mkdir(parents=True)
        (folder / "test-00000-of-00001.parquet").write_bytes(payload)
        yield name, folder.parent, "parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    empty = tmp_path / "empty" / "pope"
    empty.mkdir(parents=True)
    table = pq.read_table(good)
    pq.write_table(pa.Table.from_batches([], schema=table.schema), empty / "test-00000-of-00001.parquet")
    yield "zero rows", empty.parent, "no rows"


def test_corrupt_or_empty_data_dir_is_one_line(tmp_path):
    for name, data_dir, expected in _pope_copy_variants(tmp_path):
        out = tmp_path / f"out-{name}"
        proc = run_subprocess(
            "run", "--tasks", "pope", "--model", "janus-tiny", "--data-dir", data_dir, "--output", out, timeout=180
        )
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and expected in lines[0], (name, proc.stderr)
        assert "Traceback" not in proc.stderr and not out.exists()


def test_pickle_weights_beside_a_decoy_safetensors_is_one_line(tmp_path):
    from janus_eval.solve.models.tiny import tiny_path

    folder = tmp_path / "decoy"
    folder.mkdir()
    for f in tiny_path().iterdir():
        if f.suffix != ".safetensors":
            (folder / f.name).write_bytes(f.read_bytes())
    (folder / "pytorch_model.bin").write_bytes(b"not loaded")
    (folder / "adapter.safetensors").write_bytes(b"decoy")
    proc = run_subprocess("run", "--tasks", "pope", "--model", folder, "--demo", "--output", tmp_path / "o", timeout=180)
    lines = proc.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]  # beside the run's progress lines
    assert proc.returncode == 2 and len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[-1] == errors[0] and all(line.startswith(("loading ", "error:")) for line in lines), proc.stderr
    assert "--allow-pickle" in errors[0] and "adapter.safetensors" in errors[0] and "model.safetensors" in errors[0]
