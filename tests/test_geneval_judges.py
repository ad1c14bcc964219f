"""GenEval's judges: weights resolution (always), and the detector and the CLIP colour
classifier really running on CPU as random-weight models of the real architectures
(skipped only where the geneval extra is not installed)."""

from __future__ import annotations

import hashlib
import http.server
import threading

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import needs_geneval_extra
from PIL import Image

from janus_eval.core.errors import UsageError
from janus_eval.score.judges import Judges
from janus_eval.score.judges import geneval_detector as D
from janus_eval.tasks.geneval import scorer as G

torch.set_num_threads(1)

# mmcv/mmdet/mmengine warn about their own deprecated arguments on every build
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


# --- weights: local paths, one-time download, offline error --------------------------------


class _Server:
    def __init__(self, payload: bytes, status: int = 200):
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/ckpt.pth"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    for var in (D.ENV_DIR, D.ENV_DETECTOR_CONFIG, D.ENV_DETECTOR_CHECKPOINT, D.ENV_CLIP_CHECKPOINT):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(D.ENV_CACHE, str(tmp_path / "cache"))


def test_offline_without_weights_names_the_files_and_the_folder(no_env, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # offline: no download is tried
    with pytest.raises(UsageError) as err:
        D.resolve_weights(detector_url="http://127.0.0.1:9/never")
    msg = str(err.value)
    assert D.DETECTOR_CHECKPOINT in msg and "ViT-L-14" in msg and "download failed" not in msg
    assert str(tmp_path / "cache" / "geneval") in msg and "--demo" in msg


def test_weights_found_in_the_folder_or_by_explicit_path(no_env, tmp_path, monkeypatch):
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / D.DETECTOR_CHECKPOINT).write_bytes(b"x")
    (folder / "ViT-L-14.pt").write_bytes(b"y")
    w = D.resolve_weights(folder, allow_download=False)
    assert (
        w.detector_checkpoint == folder / D.DETECTOR_CHECKPOINT
        and w.clip_checkpoint == folder / "ViT-L-14.pt"
    )
    monkeypatch.setenv(D.ENV_DETECTOR_CHECKPOINT, str(tmp_path / "nope.pth"))
    with pytest.raises(UsageError, match="nope.pth does not exist"):
        D.resolve_weights(folder, allow_download=False)


def test_detector_checkpoint_is_downloaded_once_into_the_cache(no_env, tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "open_clip_pytorch_model.bin").write_bytes(b"clip")
    server = _Server(b"detector-bytes")
    pin = hashlib.sha256(b"detector-bytes").hexdigest()[:8]  # a prefix, as the real pin
    try:
        with pytest.raises(UsageError, match="not the pinned GenEval's detector checkpoint"):
            D.resolve_weights(folder, detector_url=server.url, allow_download=True)  # the real pin
        w1 = D.resolve_weights(folder, detector_url=server.url, detector_sha256=pin, allow_download=True)
        w2 = D.resolve_weights(folder, detector_url=server.url, detector_sha256=pin, allow_download=True)
    finally:
        server.close()
    assert server.hits == 2
    assert w1.detector_checkpoint == w2.detector_checkpoint == folder / D.DETECTOR_CHECKPOINT
    assert w1.detector_checkpoint.read_bytes() == b"detector-bytes"
    assert [p.name for p in folder.iterdir() if p.name.endswith(".part")] == []


def test_a_failed_download_is_a_usage_error_and_leaves_no_file(no_env, tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "ViT-L-14.pt").write_bytes(b"clip")
    server = _Server(b"not found", status=404)
    try:
        with pytest.raises(UsageError, match="download failed"):
            D.resolve_weights(folder, detector_url=server.url, allow_download=True)
    finally:
        server.close()
    assert sorted(p.name for p in folder.iterdir()) == ["ViT-L-14.pt"]


# --- the real architectures, random weights, on CPU ----------------------------------------


@pytest.fixture(scope="module")
def demo_judge():
    needs_geneval_extra()
    return D.load_geneval_judge(demo=True, device="cpu")


@pytest.fixture(scope="module")
def image_path(tmp_path_factory):
    rng = np.random.RandomState(0)
    path = tmp_path_factory.mktemp("img") / "0000.png"
    Image.fromarray((rng.rand(96, 128, 3) * 255).astype(np.uint8)).save(path)
    return path


def test_the_shipped_config_is_mask2former_swin_s_coco():
    needs_geneval_extra()
    cfg = D.detector_config()
    assert cfg.model.type == "Mask2Former" and cfg.model.backbone.type == "SwinTransformer"
    assert cfg.model.backbone.depths == [2, 2, 18, 2] and cfg.model.backbone.embed_dims == 96
    assert cfg.model.panoptic_head.num_things_classes == 80 and cfg.model.panoptic_head.num_stuff_classes == 0
    assert cfg.model.test_cfg.instance_on and not cfg.model.test_cfg.panoptic_on


def test_demo_detector_runs_the_real_classes_and_returns_masked_detections(demo_judge, image_path):
    from mmdet.models.backbones import SwinTransformer
    from mmdet.models.dense_heads import Mask2FormerHead
    from mmdet.models.detectors import Mask2Former

    model = demo_judge.detector.model
    assert isinstance(model, Mask2Former)
    assert isinstance(model.backbone, SwinTransformer) and isinstance(model.panoptic_head, Mask2FormerHead)
    dets = demo_judge.detect(image_path)
    assert len(dets) == model.test_cfg.max_per_image
    names = set(D.object_names())
    for d in dets:
        assert d.label in names and 0.0 <= d.score <= 1.0
        assert d.mask.shape == (96, 128) and d.mask.dtype == bool
        x1, y1, x2, y2 = d.box
        assert 0 <= x1 <= x2 <= 128 and 0 <= y1 <= y2 <= 96
    again = D.load_geneval_judge(demo=True, device="cpu").detect(image_path)
    assert [(d.label, d.score) for d in again] == [(d.label, d.score) for d in dets]


def test_detections_keep_the_detectors_row_order_within_each_class(demo_judge, image_path):
    """Ties are broken by row order, so detect() must list each class's instances in the
    order mmdet 2.x's bbox2result gives the official script: the rows with that label,
    in row order (mmdet 3's pred_instances are the same rows, not sorted by score)."""
    from mmdet.apis import inference_detector

    dets = demo_judge.detect(image_path)
    inst = inference_detector(demo_judge.detector.model, str(image_path)).pred_instances
    scores, labels = inst.scores.float().cpu().numpy(), inst.labels.cpu().numpy()
    assert [d.score for d in dets] == scores.tolist()
    assert np.any(np.diff(scores) > 0)  # the rows are not sorted: their order is the detector's
    names = D.object_names()
    for k in np.unique(labels):
        assert [d.score for d in dets if d.label == names[k]] == scores[labels == k].tolist()


def test_detector_weights_load_from_a_local_checkpoint(demo_judge, image_path, tmp_path, monkeypatch):
    cfg = D.detector_config(demo=True)
    cfg_path = tmp_path / "demo_cfg.py"
    cfg.dump(str(cfg_path))
    ckpt = tmp_path / "demo.pth"
    torch.save({"state_dict": demo_judge.detector.model.state_dict(), "meta": {"epoch": 1}}, ckpt)
    other_seed = D.MmdetDetector(str(cfg_path), None, seed=7)
    loaded = D.MmdetDetector(str(cfg_path), ckpt, seed=7)
    want = [(d.label, round(d.score, 6)) for d in demo_judge.detect(image_path)]
    assert [(d.label, round(d.score, 6)) for d in loaded.detect(image_path)] == want
    assert [(d.label, round(d.score, 6)) for d in other_seed.detect(image_path)] != want
    # a checkpoint needing full unpickling is refused unless the user trusts it explicitly
    pickled = tmp_path / "pickled.pth"
    torch.save({"state_dict": demo_judge.detector.model.state_dict(), "meta": {"arr": np.arange(3)}}, pickled)
    with pytest.raises(UsageError, match="more than tensors.*JANUS_EVAL_ALLOW_PICKLE=1"):
        D.MmdetDetector(str(cfg_path), pickled)
    monkeypatch.setenv("JANUS_EVAL_ALLOW_PICKLE", "1")
    trusted = D.MmdetDetector(str(cfg_path), pickled, seed=7)
    assert [(d.label, round(d.score, 6)) for d in trusted.detect(image_path)] == want
    monkeypatch.delenv("JANUS_EVAL_ALLOW_PICKLE")
    empty = tmp_path / "empty.pth"
    torch.save({"state_dict": {"backbone.x": torch.zeros(1)}}, empty)
    with pytest.raises(UsageError, match="does not fit the config"):
        D.MmdetDetector(str(cfg_path), empty)


def test_demo_clip_is_the_real_model_class_and_classifies_zero_shot(demo_judge):
    from open_clip.model import CLIP
    from open_clip.transformer import VisionTransformer

    clf = demo_judge.colors
    assert isinstance(clf.model, CLIP) and isinstance(clf.model.visual, VisionTransformer)
    prompts = G.color_prompts("car")
    weights = clf.class_weights(prompts)
    assert weights.shape == (32, 10)
    assert torch.allclose(weights.norm(dim=0), torch.ones(10), atol=1e-5)
    crops = [Image.new("RGB", (40, 30), c) for c in ("red", "blue", "#999999")]
    logits = clf.logits(crops, prompts)
    assert logits.shape == (3, 10)
    # logits are 100 x cosine similarities
    assert float(logits.abs().max()) <= 100.0 + 1e-3
    assert demo_judge.classify(crops, prompts) == logits.argmax(1).tolist()
    assert logits[0].tolist() != logits[1].tolist()


def test_score_end_to_end_with_the_demo_judges(demo_judge, tmp_path):
    meta = {"tag": "colors", "include": [{"class": "car", "count": 1, "color": "red"}], "prompt": "a red car"}
    folder = tmp_path / "images" / "00000" / "samples"
    folder.mkdir(parents=True)
    Image.new("RGB", (64, 64), "red").save(folder / "0000.png")
    rec = {"id": "00000", **meta, "images": ["images/00000/samples/0000.png"], "error": None}
    # a threshold of 0 keeps the random detector's cars, so the colour classifier runs too
    judges = Judges(geneval=demo_judge, demo=True)
    scored = G.score(pd.DataFrame([rec]), {"image_root": str(tmp_path), "threshold": 0.0}, judges)
    (v,) = scored.per_sample.loc[0, "parsed"]
    assert "car" in v["details"]
    assert v["correct"] == (v["reason"] == "")
    strict = G.score(pd.DataFrame([rec]), {"image_root": str(tmp_path)}, judges)
    assert strict.per_sample.loc[0, "parsed"][0]["reason"] == "expected car>=1, found 0"
    marks = strict.table[strict.table["metric"] == "mode"]
    assert marks[["subset", "value"]].values.tolist() == [["demo_judge", 1.0]]


def test_a_prompt_without_images_is_counted_not_dropped(demo_judge, tmp_path):
    meta = {"tag": "single_object", "include": [{"class": "car", "count": 1}], "prompt": "a photo of a car"}
    folder = tmp_path / "images" / "00001" / "samples"
    folder.mkdir(parents=True)
    Image.new("RGB", (64, 64), "red").save(folder / "0000.png")
    recs = [
        {"id": "00000", **meta, "images": [], "error": None},  # its folder had no samples/
        {"id": "00001", **meta, "images": ["images/00001/samples/0000.png"], "error": None},
    ]
    judges = Judges(geneval=demo_judge, demo=True)
    scored = G.score(pd.DataFrame(recs), {"image_root": str(tmp_path)}, judges)
    row = scored.table[scored.table["metric"] == "prompts_without_images"].iloc[0]
    assert row["value"] == 1.0 and row["n"] == 2
