"""What goes into the model is what DeepSeek's own Janus code and the authors' evaluation feed it.

Expected strings are written out from the official sources: DeepSeek's conversation template
(janus/utils/conversation.py, "deepseek"), its processor (processing_vlm.py: strip each
message and the whole prompt, expand each `<image_placeholder>` to `<begin_of_image>`, N
placeholders and `<end_of_image>`, left pad with `<｜▁pad▁｜>`), its image processor
(image_processing_vlm.py) and VLMEvalKit's Janus wrapper (vlmeval/vlm/janus.py,
`build_prompt`, `generate_inner`). The tiny model is saved as transformers' converter saves the
deepseek-community checkpoints, `use_default_system_prompt=True` included.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from janus_eval.core.requests import Ask
from janus_eval.data.load import to_rgb
from janus_eval.solve.models.chat import JANUS_ROLES, PRO_ROLES, pad_token_id
from janus_eval.solve.models.image_inputs import ImageSettings, pixel_values, resized_size, squared
from janus_eval.solve.models.janus import JanusPreparer, chat_prompt
from janus_eval.solve.models.tiny import TINY_IMAGE_SIZE, tiny_path
from janus_eval.tasks.registry import build_prompt, load_task

IMG = Image.new("RGB", (40, 30), (200, 10, 10))
YN = "\nAnswer the question using a single word or phrase."
MCQ = "\n\nAnswer with the option's letter from the given choices directly."
MMVET_SYSTEM = (
    "You are a helpful assistant. Please answer truthfully and write out your thinking step by step to be sure "
    "you get the right answer."
)


def full_prompt(task: str, protocol: str, row: dict, n_images: int = 1, roles=PRO_ROLES) -> str:
    """The whole text the tokenizer reads for a row: the task's prompt under the protocol, in the chat format."""
    t = load_task(task, protocol)
    ask = Ask([IMG] * n_images, build_prompt(row, t.prompt, t.prompt_builder), t.max_new_tokens, t.system_prompt, t.roles)
    return chat_prompt(ask, "<image_placeholder>", roles)


# --- prompts: every understanding task, both protocols ------------------------------------
POPE_ROW = {"question": "Is there a snowboard in the image? Please answer yes or no."}
MME_ROW = {"question": "Is this photo taken in a place of worship? Please answer yes or no."}
MMBENCH_ROW = {"question": "Which solution has a higher concentration?", "hint": "nan", "A": "Solution A",
               "B": "Solution B", "C": "nan", "D": "nan"}  # fmt: skip
SEED_ROW = {"question": "How many towels are in the image?", "choice_a": "One", "choice_b": "Two",
            "choice_c": "Three", "choice_d": "Four"}  # fmt: skip
MMMU_ROW = {"question": "Which is larger, <image 1> or <image 2>?", "options": "['<image 1>', '<image 2>', 'equal']",
            "question_type": "multiple-choice"}  # fmt: skip
MMMU_OPEN = {"question": "How many {x} are there in <image 1>?", "options": "[]", "question_type": "open"}

EXPECTED = {
    "pope": (POPE_ROW, 1, "<image_placeholder>\nIs there a snowboard in the image?" + YN),
    "mme": (MME_ROW, 1, "<image_placeholder>\nIs this photo taken in a place of worship? Please answer yes or no." + YN),
    "mmbench": (MMBENCH_ROW, 1, "<image_placeholder>\nWhich solution has a higher concentration?\nA. Solution A\n"
                "B. Solution B" + MCQ),
    "seedbench": (SEED_ROW, 1, "<image_placeholder>\nHow many towels are in the image?\nA. One\nB. Two\nC. Three\n"
                  "D. Four" + MCQ),
    "mmmu": (MMMU_ROW, 2, "<image_placeholder><image_placeholder>\nWhich is larger, <image 1> or <image 2>?\n"
             "A. <image 1>\nB. <image 2>\nC. equal" + MCQ),
    "mmvet": ({"question": "What is written on the sign?"}, 1, "<image_placeholder>\nWhat is written on the sign?"),
}  # fmt: skip


@pytest.mark.parametrize("task", sorted(EXPECTED))
def test_prompts_are_the_authors_under_both_protocols(task):
    row, n, content = EXPECTED[task]
    system = f"{MMVET_SYSTEM}\n\n" if task == "mmvet" else ""  # every other task: an empty system prompt
    assert full_prompt(task, "janus-pro", row, n) == f"{system}<|User|>: {content}\n\n<|Assistant|>:"
    # VLMEvalKit's wrapper: the same text with User / Assistant for every model, Pro included
    assert full_prompt(task, "vlmevalkit", row, n) == f"{system}User: {content}\n\nAssistant:"
    # Janus-1.3B's own roles under the default protocol
    assert full_prompt(task, "janus-pro", row, n, JANUS_ROLES) == f"{system}User: {content}\n\nAssistant:"


def test_mcq_hint_line_and_questions_without_options():
    hinted = {**MMBENCH_ROW, "hint": "The passage below describes an experiment.", "C": "Neither"}
    assert full_prompt("mmbench", "janus-pro", hinted) == (
        "<|User|>: <image_placeholder>\nHint: The passage below describes an experiment.\n"
        "Which solution has a higher concentration?\nA. Solution A\nB. Solution B\nC. Neither" + MCQ
        + "\n\n<|Assistant|>:"
    )
    # an open MMMU question: "Answer the question directly. ", its trailing space stripped with the message
    assert full_prompt("mmmu", "janus-pro", MMMU_OPEN) == (
        "<|User|>: <image_placeholder>\nHow many {x} are there in <image 1>?\nAnswer the question directly."
        "\n\n<|Assistant|>:"
    )
    t = load_task("mmmu")
    assert build_prompt(MMMU_OPEN, t.prompt, t.prompt_builder).endswith("Answer the question directly. ")


def test_gqa_keeps_its_prompt_and_vlmevalkit_sends_its_vqa_text():
    row = {"question": "Is the sky blue?"}
    assert full_prompt("gqa", "janus-pro", row) == (
        "<|User|>: <image_placeholder>\nIs the sky blue?" + YN + "\n\n<|Assistant|>:"
    )
    assert full_prompt("gqa", "vlmevalkit", row) == "User: <image_placeholder>Is the sky blue?" + YN + "\n\nAssistant:"


def test_protocol_is_in_the_config_hash_and_unknown_ones_are_refused():
    from janus_eval.core.errors import UsageError

    pro, vlm = load_task("pope", "janus-pro"), load_task("pope", "vlmevalkit")
    assert pro.config_hash() != vlm.config_hash()
    assert (pro.protocol, pro.roles, vlm.protocol, vlm.roles) == ("janus-pro", None, "vlmevalkit", ("User", "Assistant"))
    with pytest.raises(UsageError, match="unknown --protocol 'lmms-eval'"):
        load_task("pope", "lmms-eval")


def test_protocol_overrides_only_prompt_keys(tmp_path, monkeypatch):
    from janus_eval.core.errors import UsageError
    from janus_eval.tasks import registry

    text = (registry.TASKS_DIR / "gqa/task.yaml").read_text()
    (tmp_path / "gqa").mkdir()
    (tmp_path / "gqa/task.yaml").write_text(text.replace("vlmevalkit: {prompt:", "vlmevalkit: {scorer: x, prompt:"))
    (tmp_path / "groups.yaml").write_text("{}\n")
    monkeypatch.setattr(registry, "TASKS_DIR", tmp_path)
    with pytest.raises(UsageError, match="protocol vlmevalkit sets scorer"):
        registry.load_task("gqa", "vlmevalkit")


def test_run_records_the_whole_prompt_and_the_protocol(cli, tmp_path):
    code, out, err = cli("run", "--tasks", "pope", "--model", "janus-tiny", "--demo", "--protocol", "vlmevalkit",
                         "--output", tmp_path, "--run-id", "v", "--no-progress")  # fmt: skip
    assert code == 0, err
    records = [json.loads(line) for line in (tmp_path / "v/pope/samples.jsonl").read_text().splitlines()]
    assert records[0]["prompt"] == f"User: <image_placeholder>\n{records[0]['question']}{YN}\n\nAssistant:"
    manifest = json.loads((tmp_path / "v/manifest.json").read_text())
    assert manifest["protocol"] == ["vlmevalkit"]
    assert manifest["tasks"]["pope"]["config"]["roles"] == ["User", "Assistant"]
    code, _, err = cli("run", "--tasks", "pope", "--model", "janus-tiny", "--demo", "--output", tmp_path,
                       "--run-id", "v", "--no-progress")  # fmt: skip
    assert code == 2 and "changed since run v" in err  # another protocol never resumes into the run


# --- the converter-style checkpoint: one system prompt, official tokens -----------------------
@pytest.fixture(scope="module")
def processor():
    from transformers import JanusProcessor

    return JanusProcessor.from_pretrained(tiny_path())


def test_tiny_is_saved_as_the_converter_saves_real_checkpoints(processor):
    folder = tiny_path()
    saved = json.loads((folder / "processor_config.json").read_text())
    assert saved["use_default_system_prompt"] is True and processor.use_default_system_prompt
    assert processor.chat_template
    gen = json.loads((folder / "generation_config.json").read_text())
    vocab = processor.tokenizer.get_vocab()
    assert gen["pad_token_id"] == vocab["<｜▁pad▁｜>"] != processor.tokenizer.pad_token_id
    assert gen["guidance_scale"] == 5 and gen["generation_kwargs"]["boi_token_id"] == vocab["<begin_of_image>"]
    # the processor's own text path would prepend its default system prompt (why the adapter does not use it)
    ids = processor(text=["<|User|>: hi\n\n<|Assistant|>:"], return_tensors="pt")["input_ids"][0]
    assert processor.tokenizer.decode(ids).count("You are a helpful language and vision assistant") == 1


def _decode(processor, ids) -> str:
    return processor.tokenizer.decode(ids, skip_special_tokens=False)


@pytest.mark.parametrize("system", ["", MMVET_SYSTEM])
def test_system_prompt_goes_in_exactly_once(processor, system):
    prepared = JanusPreparer(processor, PRO_ROLES)([Ask([IMG], "\nIs there a dog?", 16, system)])
    text = _decode(processor, prepared.inputs["input_ids"][0])
    assert text.count("You are a helpful language and vision assistant") == 0
    assert text.count(MMVET_SYSTEM) == (1 if system else 0)
    assert prepared.prompts[0] == (f"{system}\n\n" if system else "") + (
        "<|User|>: <image_placeholder>\nIs there a dog?\n\n<|Assistant|>:"
    )


def test_token_ids_are_the_official_processors(processor):
    """BOS + the template's text tokenised, each placeholder expanded in place to
    <begin_of_image>, num_image_tokens placeholders, <end_of_image>; rows left padded with the
    vocabulary's pad id (not the tokenizer's), mask 0 there."""
    tok = processor.tokenizer
    vocab = tok.get_vocab()
    asks = [Ask([IMG], "\nIs there a dog?"), Ask([IMG, IMG], "\nCompare <image 1> and <image 2>, please. ")]
    prepared = JanusPreparer(processor, PRO_ROLES)(asks)
    ids, mask = prepared.inputs["input_ids"], prepared.inputs["attention_mask"]
    n = processor.num_image_tokens
    image, begin, end = vocab["<image_placeholder>"], vocab["<begin_of_image>"], vocab["<end_of_image>"]
    for row, text in enumerate(prepared.prompts):
        want: list[int] = []
        for t in tok.encode(text):  # official: tokenizer.encode(sft_format), then add_image_token
            want += [begin, *[image] * n, end] if t == image else [t]
        real = ids[row][mask[row].bool()].tolist()
        assert real == want and real[0] == tok.bos_token_id
        pads = ids[row][~mask[row].bool()].tolist()
        assert pads == [vocab["<｜▁pad▁｜>"]] * len(pads)
        assert mask[row].tolist() == sorted(mask[row].tolist())  # left padding
    assert prepared.prompts[1].endswith("please.\n\n<|Assistant|>:")  # the message stripped
    assert mask[0].sum() < mask[1].sum() and (ids[0, 0] == vocab["<｜▁pad▁｜>"])
    assert prepared.inputs["pixel_values"].shape == (3, 3, TINY_IMAGE_SIZE, TINY_IMAGE_SIZE)


def test_pad_id_is_the_vocabularys_pad_tag(processor):
    tok = processor.tokenizer
    assert tok.pad_token == tok.eos_token  # the converter keeps the tokenizer's own pad token
    assert pad_token_id(tok) == tok.get_vocab()["<｜▁pad▁｜>"] != tok.pad_token_id


def test_unconditional_rows_are_padded_with_the_pad_tag(processor, monkeypatch):
    """The image loop's unconditional rows: BOS, the official pad id, <begin_of_image>."""
    from transformers import JanusForConditionalGeneration

    from janus_eval.core.requests import Draw
    from janus_eval.solve.models import janus_image

    seen = {}
    real = janus_image.sample_image_tokens

    def spy(model, prompts, generators, **kw):
        seen["pad"] = kw["pad_token_id"]
        return real(model, prompts, generators, **kw)

    monkeypatch.setattr(janus_image, "sample_image_tokens", spy)
    model = JanusForConditionalGeneration.from_pretrained(tiny_path()).eval()
    janus_image.draw_tokens(model, processor, [Draw("a dog", 1, [0])], batch_size=1)
    assert seen["pad"] == processor.tokenizer.get_vocab()["<｜▁pad▁｜>"]


# --- images: the official VLMImageProcessor, pixel for pixel ----------------------------------
def official_square(img: Image.Image, size: int = 384, min_size: int = 14) -> np.ndarray:
    """A straight port of the official resize + expand2square on an RGB PIL image (torchvision's
    functional resize of a PIL image is PIL's bicubic resize), as uint8 [H, W, 3]."""
    w, h = img.size
    m = max(w, h)
    new_h, new_w = max(int(h / m * size), min_size), max(int(w / m * size), min_size)
    img = img.resize((new_w, new_h), Image.Resampling.BICUBIC)
    if new_w == new_h:
        return np.asarray(img)
    side = max(new_w, new_h)
    out = Image.new("RGB", (side, side), (127, 127, 127))
    out.paste(img, (0, (side - new_h) // 2) if new_w > new_h else ((side - new_w) // 2, 0))
    return np.asarray(out)


def gradient(w: int, h: int, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(w * 1000 + h)
    img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    return img if mode == "RGB" else img.convert(mode)


# (width, height) -> (resized height, width) and the pad before the image, from the official formula;
# transformers' JanusImageProcessor rounds instead and makes the first four one pixel larger
SIZES = {
    (500, 333): ((255, 384), 64),
    (800, 533): ((255, 384), 64),
    (640, 428): ((256, 384), 64),
    (333, 500): ((384, 255), 64),
    (640, 480): ((288, 384), 48),
    (384, 384): ((384, 384), 0),
    (1000, 20): ((14, 384), 185),  # min_size
    (7, 3): ((164, 384), 110),  # upscaled
}


@pytest.mark.parametrize("size", sorted(SIZES))
def test_resize_and_pad_equal_the_official_processor(size):
    settings = ImageSettings()
    (h, w), offset = SIZES[size]
    assert resized_size(*size, settings) == (h, w)
    img = gradient(*size)
    ours = np.asarray(squared(img, settings))
    want = official_square(img)
    assert ours.shape == (384, 384, 3)
    assert np.array_equal(ours, want)  # 0/255 difference
    if offset:
        pad = ours[:offset] if w > h else ours[:, :offset]
        assert (pad == 127).all()


@pytest.mark.parametrize("mode", ["RGBA", "L", "P", "CMYK", "LA", "1"])
def test_every_mode_is_converted_as_the_official_convert_rgb(mode):
    img = gradient(333, 500, mode)
    rgb = to_rgb(img)
    assert rgb.mode == "RGB"
    want = official_square(img.convert("RGB"))  # janus.utils.io.load_pil_images: .convert("RGB")
    assert np.array_equal(np.asarray(squared(rgb, ImageSettings())), want)


def test_pixel_values_are_the_official_normalised_floats():
    imgs = [gradient(500, 333), gradient(640, 480)]
    values = pixel_values(imgs, ImageSettings())
    assert values.dtype == torch.float32 and values.shape == (2, 3, 384, 384)
    for got, img in zip(values, imgs):
        x = np.transpose(official_square(img), (2, 0, 1))
        want = ((x.astype(np.float64) * (1 / 255)).astype(np.float32) - np.float32(0.5)) / np.float32(0.5)
        assert np.array_equal(got.numpy(), want)


def test_settings_come_from_the_checkpoints_image_processor(processor):
    settings = ImageSettings.of(processor.image_processor)
    assert settings == ImageSettings(size=TINY_IMAGE_SIZE, min_size=14)
    assert settings.background == (127, 127, 127)
    prepared = JanusPreparer(processor, PRO_ROLES)([Ask([gradient(500, 333)], "q")])
    want = official_square(gradient(500, 333), TINY_IMAGE_SIZE)
    got = prepared.inputs["pixel_values"][0].numpy()
    assert np.allclose((got * 0.5 + 0.5) * 255, np.transpose(want, (2, 0, 1)), atol=1e-3)


def test_a_zero_size_image_is_the_samples_error_not_a_crash():
    from janus_eval.data.load import ImageError

    with pytest.raises(ImageError, match="no pixels"):
        to_rgb(Image.new("RGB", (0, 5)))
