"""The data paths the understanding tasks need: SEED-Bench's image lists and row filter,
GQA's image join from a local whole-repo download (the prompts: test_fidelity.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import png_bytes

from janus_eval.data.build_demo import shapes
from janus_eval.data.load import load_samples
from janus_eval.tasks.registry import load_task


# --- data flow ---------------------------------------------------------------------
def test_prompts_do_not_import_scorers():
    """Requests are built upstream of the model: the prompt builders share option helpers with the
    scorers through janus_eval.score.options, never by importing a task's scorer."""
    code = (
        "import sys, janus_eval.tasks.prompts, janus_eval.tasks.pope.prompt; "
        "print(sorted(m for m in sys.modules if m.endswith('.scorer')))"
    )
    root = Path(__file__).resolve().parents[1]  # this checkout, not an installed copy
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- data ------------------------------------------------------------------------------
def test_seedbench_demo_keeps_image_questions_with_their_image_lists():
    loaded = load_samples(load_task("seedbench"), demo=True)
    assert [s.row["data_type"] for s in loaded.samples] == ["image"] * 4  # the video row is filtered out
    assert all(len(s.images()) == 1 and s.images()[0].mode == "RGB" for s in loaded.samples)


def test_gqa_joins_images_from_a_local_whole_repo_download(tmp_path):
    from datasets import Dataset, Features, Value
    from datasets import Image as ImageFeature

    root = tmp_path / "data" / "gqa"
    colours = {"img1": "red", "img2": "blue", "img3": "green"}
    images = [{"id": k, "image": {"bytes": png_bytes(shapes([("circle", c)], size=(40, 30))), "path": None}}
              for k, c in colours.items()]  # fmt: skip
    img_features = Features({"id": Value("string"), "image": ImageFeature()})
    (root / "testdev_balanced_images").mkdir(parents=True)
    Dataset.from_list(images, features=img_features).to_parquet(
        str(root / "testdev_balanced_images/testdev-00000-of-00001.parquet")
    )
    questions = [{"id": f"q{i}", "imageId": k, "question": "What colour?", "answer": c, "fullAnswer": f"It is {c}."}
                 for i, (k, c) in enumerate(reversed(list(colours.items())))]  # fmt: skip
    (root / "testdev_balanced_instructions").mkdir()
    Dataset.from_list(questions).to_parquet(
        str(root / "testdev_balanced_instructions/testdev-00000-of-00001.parquet")
    )
    # another config of the same repo in the download must not be mixed in
    (root / "testdev_all_instructions").mkdir()
    Dataset.from_list(questions * 2).to_parquet(
        str(root / "testdev_all_instructions/testdev-00000-of-00001.parquet")
    )

    loaded = load_samples(load_task("gqa"), data_dir=tmp_path / "data")
    assert [s.id for s in loaded.samples] == ["q0", "q1", "q2"]
    for sample in loaded.samples:
        (img,) = sample.images()
        expected = {"red": (220, 40, 40), "blue": (40, 70, 220), "green": (40, 170, 60)}[sample.row["answer"]]
        assert img.getpixel((20, 15)) == expected  # the image joined on imageId is the right one
