"""Registry, data sources, chat format, tiny model and run-store rules."""

from __future__ import annotations

import dataclasses

import pytest
from helpers import write_pope_copy
from PIL import Image

from janus_eval.core.errors import UsageError
from janus_eval.core.manifest import Manifest
from janus_eval.core.requests import Ask
from janus_eval.data.load import load_samples, make_ids
from janus_eval.runner import check_resume
from janus_eval.solve.models.janus import JANUS_ROLES, PRO_ROLES, chat_prompt
from janus_eval.store.run_store import safe_name
from janus_eval.tasks.registry import load_task, resolve_tasks


def test_list_tasks_and_models(cli):
    code, out, err = cli("list", "tasks")
    assert code == 0 and "pope" in out and "lmms-lab/POPE" in out and "mme" in out
    code, out, err = cli("list", "models")
    assert code == 0 and "deepseek-community/Janus-Pro-7B" in out and "janus-tiny" in out
    code, out, err = cli("list", "nothing")
    assert code == 2 and "list tasks" in err


def test_chat_prompt_is_the_official_template():
    """The "deepseek" template as DeepSeek's conversation code writes it (strings from it): the
    system prompt and a blank line when there is one, images first, each message and the whole
    prompt stripped, the assistant's empty turn as `{role}:`."""
    ask = Ask([Image.new("RGB", (4, 4))], "\nIs there a dog?", system_prompt="SYS")
    assert chat_prompt(ask, "<image_placeholder>", PRO_ROLES) == (
        "SYS\n\n<|User|>: <image_placeholder>\nIs there a dog?\n\n<|Assistant|>:"
    )
    two = Ask([Image.new("RGB", (4, 4))] * 2, "\nCompare <image 1> with <image 2>. \n")
    assert chat_prompt(two, "<I>", JANUS_ROLES) == "User: <I><I>\nCompare <image 1> with <image 2>.\n\nAssistant:"
    assert chat_prompt(Ask([], "  a dog  "), "<I>", PRO_ROLES) == "<|User|>: a dog\n\n<|Assistant|>:"
    plain = Ask([Image.new("RGB", (4, 4))], "Q", roles=("User", "Assistant"))  # a protocol's roles win
    assert chat_prompt(plain, "<I>", PRO_ROLES) == "User: <I>Q\n\nAssistant:"
    assert chat_prompt(Ask([], "   "), "<I>", PRO_ROLES) == "<|User|>:<|Assistant|>:"  # empty: role and colon


def test_ids_are_unique_and_stable():
    rows = [{"q": "1", "c": "a"}, {"q": "1", "c": "b"}, {"q": "1", "c": "a"}]
    assert make_ids(rows, ("c", "q")) == ["a/1#1", "b/1", "a/1#2"]


def test_local_copy_parquet_and_save_to_disk(tmp_path):
    from datasets import Dataset

    task = load_task("pope")
    write_pope_copy(tmp_path / "pq", 6)
    loaded = load_samples(task, data_dir=tmp_path / "pq", limit=4)
    assert len(loaded.samples) == 4 and loaded.source["kind"] == "local"
    assert loaded.samples[0].images()[0].mode == "RGB"

    ds = Dataset.from_parquet(str(next((tmp_path / "pq/pope").glob("*.parquet"))))
    ds.save_to_disk(str(tmp_path / "disk/pope"))
    again = load_samples(task, data_dir=tmp_path / "disk")
    assert [s.id for s in again.samples] == [s.id for s in load_samples(task, data_dir=tmp_path / "pq").samples]


def test_demo_sets_are_in_the_real_schema():
    for name in ("pope", "mme"):
        task = load_task(name)
        samples = load_samples(task, demo=True).samples
        assert samples and all(set(task.text_columns) <= set(s.row) for s in samples)
        assert all(len(s.images()) == 1 for s in samples)


def test_resume_refuses_a_changed_task_or_model():
    task = load_task("pope")
    manifest = Manifest.from_dict(
        {"run_id": "r", "model": {"model": "janus-tiny"}, "tasks": {"pope": {"config_hash": task.config_hash()}}}
    )
    check_resume(manifest, "janus-tiny", [task])  # same: fine
    changed = dataclasses.replace(task, max_new_tokens=99)
    with pytest.raises(UsageError, match="changed since run r"):
        check_resume(manifest, "janus-tiny", [changed])
    with pytest.raises(UsageError, match="new --run-id"):
        check_resume(manifest, "Janus-Pro-7B", [task])


def test_groups_and_unsafe_names():
    assert [t.name for t in resolve_tasks("pope,mme,pope")] == ["pope", "mme"]
    for bad in ("../x", "a/b", "", ".."):
        with pytest.raises(UsageError):
            safe_name(bad)


def test_tiny_model_is_deterministic(tmp_path):
    from janus_eval.solve.models.tiny import build_tiny

    a, b = build_tiny(tmp_path / "a"), build_tiny(tmp_path / "b")
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    assert (a / "tokenizer.json").read_text() == (b / "tokenizer.json").read_text()


def test_resume_refuses_other_data_or_weights(cli, tmp_path):
    from helpers import write_pope_copy

    args = ["run", "--tasks", "pope", "--model", "janus-tiny", "--output", tmp_path, "--run-id", "r", "--no-progress"]
    code, out, err = cli(*args, "--demo", "--limit", "3")
    assert code == 0, err
    data = write_pope_copy(tmp_path / "data", 5)
    code, out, err = cli(*args, "--data-dir", data)
    assert code == 2 and "read other data" in err and "kind demo -> local" in err

    from janus_eval.runner import check_resume_weights

    with pytest.raises(UsageError, match="weights of m changed"):
        check_resume_weights(
            Manifest.from_dict({"run_id": "r", "model": {"fingerprint": "aaa"}}), {"model": "m", "fingerprint": "bbb"}
        )
    check_resume_weights(Manifest.from_dict({"model": {"fingerprint": "aaa"}}), {"model": "m", "fingerprint": "aaa"})


def test_huge_image_is_an_image_error():
    import io

    from PIL import Image as PILImage

    from janus_eval.data.load import ImageError, to_rgb

    buf = io.BytesIO()
    PILImage.new("L", (20000, 12000)).save(buf, format="PNG")  # 240 Mpixel: over PIL's bomb limit
    with pytest.raises(ImageError, match="unreadable image"):
        to_rgb({"bytes": buf.getvalue(), "path": None})


def test_gqa_images_join_from_a_local_copy_after_the_limit(tmp_path):
    """GQA's questions and images are two configs joined on imageId; the join reads only the rows kept."""
    from datasets import Dataset, Features, Value
    from datasets import Image as ImageFeature

    from janus_eval.data.build_demo import png, shapes

    questions = [{"id": f"q{i}", "imageId": f"img{i % 3}", "question": f"What is {i}?", "answer": "red",
                  "fullAnswer": "It is red."} for i in range(6)]  # fmt: skip
    colours = ["red", "green", "blue"]
    images = [{"id": f"img{k}", "image": png(shapes([("square", colours[k])]))} for k in (2, 0, 1)]
    root = tmp_path / "gqa"
    (root / "testdev_balanced_instructions").mkdir(parents=True)
    (root / "testdev_balanced_images").mkdir(parents=True)
    Dataset.from_list(questions).to_parquet(str(root / "testdev_balanced_instructions/testdev.parquet"))
    Dataset.from_list(images, features=Features({"id": Value("string"), "image": ImageFeature()})).to_parquet(
        str(root / "testdev_balanced_images/testdev.parquet")
    )
    loaded = load_samples(load_task("gqa"), data_dir=tmp_path, limit=4)
    assert [s.id for s in loaded.samples] == ["q0", "q1", "q2", "q3"]
    for sample in loaded.samples:
        k = int(sample.row["imageId"][3:])
        img = sample.images()[0]
        assert img.getpixel((20, 30)) == {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 70, 220)}[colours[k]]
