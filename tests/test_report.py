"""`janus-eval report`: the leaderboard files, their escaping, and the HTML page as a
real browser (headless Chromium) renders it."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from run_builders import (
    MME_GOLDEN,
    POPE_GOLDEN,
    generation_run,
    invoke,
    pope_rows_with_wrong,
    read_jsonl,
    score_run,
)

from janus_eval.analyse.paper import paper_model, paper_table
from janus_eval.analyse.reporting.collect import LONG_COLUMNS

# Predictions a model could write. Each would run script or break the page if it reached it unescaped.
SCRIPT = "<script>window.pwned=(window.pwned||0)+1;document.title='pwned'</script>"
IMG = "<img src=x onerror=\"window.pwned=(window.pwned||0)+1;document.title='pwned-img'\">"
BREAK = "a | pipe [link](javascript:alert(1)) **bold**\nsecond line </td></tr></table><h1>broken</h1>"
PAYLOADS = [SCRIPT, IMG, BREAK]
EVIL_MODEL = "evil<script>window.pwned=1</script>"

NO_CHROMIUM = (
    "headless Chromium is not installed; install it with "
    "`apt-get update && apt-get install -y chromium` (.ci/run does)"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def browser() -> str:
    """The Chromium binary. Without one the browser tests skip on a workstation, but fail where
    the CI variable is set: .ci/run installs Chromium, so a CI without it must not pass silently.
    (Module-scoped and named first, so it decides before the report is built.)"""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if in_ci():
            pytest.fail(f"CI is set but {NO_CHROMIUM}", pytrace=False)
        pytest.skip(NO_CHROMIUM)
    return found


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    rows = read_jsonl(POPE_GOLDEN)
    wrong = [i for i, r in enumerate(rows) if r["answer"] == "no"][: len(PAYLOADS)]
    for i, payload in zip(wrong, PAYLOADS):
        rows[i] = {**rows[i], "prediction": payload}  # parsed "yes" against "no": a failure
    runs = [
        score_run(root, "pope", rows, "pope-7b"),
        score_run(
            root, "pope", pope_rows_with_wrong(share=0.1), "pope-1b", model="deepseek-community/Janus-Pro-1B"
        ),
        score_run(root, "mme", read_jsonl(MME_GOLDEN), "mme-7b"),
        generation_run(root, "gen-evil", prompt_extra=" " + SCRIPT + IMG, model=EVIL_MODEL),
    ]
    out = root / "site"
    code, stdout, err = invoke("report", *runs, "-o", out, "--failures", "20")
    assert code == 0, err
    assert "leaderboard.html" in stdout
    return {"out": out, "runs": runs, "html": (out / "leaderboard.html").read_text(encoding="utf-8"),
            "md": (out / "leaderboard.md").read_text(encoding="utf-8")}  # fmt: skip


# --- the long CSV ------------------------------------------------------------------------------
def test_csv_is_long_with_paper_rows_and_deltas(report):
    csv = pd.read_csv(report["out"] / "leaderboard.csv", keep_default_na=False, na_values=[""])
    assert list(csv.columns) == LONG_COLUMNS
    runs = csv[csv["source"] == "run"]
    paper = csv[csv["source"] == "paper"]
    assert len(paper) == len(paper_table())
    assert set(runs["run"]) == {"pope-7b", "pope-1b", "mme-7b", "gen-evil"}

    def head(run: str) -> pd.Series:
        return runs[(runs["run"] == run) & runs["headline"]].iloc[0]

    p7, p1, m7, gen = head("pope-7b"), head("pope-1b"), head("mme-7b"), head("gen-evil")
    assert (p7["metric"], p7["subset"], p7["paper"]) == ("f1", "random", 87.4)  # the run's own model
    assert p1["paper"] == 86.2  # a hub id matched to the report's Janus-Pro-1B
    assert (m7["metric"], m7["paper"]) == ("perception", 1567.1)
    assert m7["value"] == pytest.approx(1531.3187274909965)  # the MME golden number
    for row in (p7, p1, m7):
        assert row["delta"] == pytest.approx(row["value"] - row["paper"])
    assert gen["metric"] == "overall" and gen["value"] == 25.0 and pd.isna(gen["paper"])  # no paper model
    # the payload answers are adversarial-split rows: the random split's F1 is the golden one; 10% flips cost F1
    assert p7["value"] == pytest.approx(87.13601179506082) and p1["value"] < p7["value"]
    assert runs.groupby("run").size()["mme-7b"] == 14 * 3 + 3 + 1  # every subset of every metric


@pytest.mark.parametrize(
    "model, name",
    [("Janus-Pro-7B", "Janus-Pro-7B"), ("deepseek-community/Janus-Pro-1B", "Janus-Pro-1B"),
     ("ckpts/janus-pro-7b", "Janus-Pro-7B"), ("/data/JANUS-PRO-7B/", "Janus-Pro-7B"),
     ("janus-tiny", None), ("ckpts/janus-pro-7b-sft", None)],
)  # fmt: skip
def test_paper_model_matches_the_hub_id_tail_in_any_case(model, name):
    assert paper_model(model) == name


def test_scores_csv_and_leaderboard_agree_on_the_paper_value(tmp_path):
    """One rule matches a run's model to the paper, when scores.csv is written and in the report."""
    run = score_run(tmp_path, "pope", read_jsonl(POPE_GOLDEN), "local", model="ckpts/janus-pro-7b")
    scores = pd.read_csv(run / "scores.csv", keep_default_na=False, na_values=[""])
    recorded = scores[(scores["metric"] == "f1") & (scores["subset"] == "random")].iloc[0]
    code, _, err = invoke("report", run, "-o", tmp_path / "site")
    assert code == 0, err
    board = pd.read_csv(tmp_path / "site" / "leaderboard.csv", keep_default_na=False, na_values=[""])
    shown = board[(board["source"] == "run") & (board["metric"] == "f1") & (board["subset"] == "random")].iloc[0]
    assert recorded["paper"] == shown["paper"] == 87.4


# --- markdown ------------------------------------------------------------------------------------
def test_markdown_escapes_model_text_and_keeps_tables_whole(report):
    md = report["md"]
    for raw in ("<script", "<img src=x", "<h1>", "</table>"):
        assert raw not in md
    assert not re.search(r"(?<!\\)\]\(javascript:", md)  # no live link: the bracket is escaped
    assert "&lt;script&gt;window" in md and "&lt;img src=x onerror=" in md
    assert "evil&lt;script&gt;" in md  # the model name from the manifest, too
    # every row of every table has its header's number of cells: no payload opened a cell
    unescaped_pipes = re.compile(r"(?<!\\)\|")
    tables, current = [], []
    for line in md.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    assert len(tables) >= 8
    for table in tables:
        cells = {len(unescaped_pipes.findall(line)) for line in table}
        assert len(cells) == 1, table[0]
    assert any("second line" in line for table in tables for line in table)
    assert "a \\| pipe \\[link\\](javascript:alert(1)) \\*\\*bold\\*\\*<br>second line" in md


def test_markdown_images_are_real_files(report):
    out, md = report["out"], report["md"]
    paths = re.findall(r"!\[[^\]]*\]\((leaderboard_files/[^)]+)\)", md)
    plots = [p for p in paths if p.endswith(".png")]
    thumbs = [p for p in paths if p.endswith(".jpg")]
    assert len(plots) == 6  # pope, mme, geneval: headline + per-category breakdown
    assert len(thumbs) == 8  # 4 generated samples x 2 images; the escaping one shows notes
    for rel in paths:
        with Image.open(out / rel) as img:
            img.load()
            assert min(img.size) > 10


# --- the HTML, statically ------------------------------------------------------------------------
class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_and_inert(report):
    page = Tags()
    page.feed(report["html"])
    names = [t for t, _ in page.tags]
    assert "script" not in names and "h1" in names and names.count("h1") == 1
    assert not [a for _, attrs in page.tags for a in attrs if a.startswith("on")]
    imgs = [attrs["src"] for t, attrs in page.tags if t == "img"]
    assert all(src.startswith("data:image/") for src in imgs)
    assert sum(s.startswith("data:image/png;base64,") for s in imgs) == 6
    assert sum(s.startswith("data:image/jpeg;base64,") for s in imgs) == 8
    links = [attrs.get("href", "") for t, attrs in page.tags if t == "a"]
    assert links and all(h.startswith("#task-") for h in links)
    assert "http://" not in report["html"] and "https://" not in report["html"]
    text = "".join(page.text)
    for payload in (SCRIPT, IMG):
        assert payload in text  # shown, as text
    assert text.count("image path outside the task folder") == 2
    assert "first 20" in text  # --failures 20


def test_html_has_every_section(report):
    text = report["html"]
    for needle in ("Leaderboard", "pope", "mme", "geneval", "Every metric and subset", "Generated images",
                   "Wrong answers", "Janus-Pro report"):  # fmt: skip
        assert needle in text


# --- the template: model text is data, never markup or template source ---------------------------
ATTR_BREAK = '"><script>alert(1)</script>'
SSTI = ["{{ 7*7 }}", "{% for x in range(3) %}loop{% endfor %}", "{{ config.__class__ }}", "{# hidden #}"]


def payload_document(text: str):
    """A report document with `text` in every slot a run or a model fills: run label, model, table
    cells, headers, sample ids, dataset fields, predictions, parsed answers, errors, prompts
    (also an image's alt attribute), card lines, missing-image notes and the notes."""
    from janus_eval.analyse.reporting.collect import Board
    from janus_eval.analyse.reporting.document import ReportData, Section
    from janus_eval.analyse.reporting.samples import Failure, FailureSet, Gallery, GalleryItem, Thumb
    from janus_eval.analyse.reporting.tables import Cell, Table

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "navy").save(buf, "JPEG")
    jpeg = buf.getvalue()
    tbl = Table([text, "value"], [[Cell(text), Cell("1.00", delta=-0.5, numeric=True)]], {0})
    failure = Failure(text, [(text, text)], text, text, text)
    fs = FailureSet(text, "pope", 2, 1, 1, 1, [failure], [failure])
    item = GalleryItem(text, text, text, False, text, [Thumb(jpeg), Thumb(None, text)], [text])
    plain = GalleryItem(text, text, text, None, text, [])  # no card lines: the parsed field shown
    gal = Gallery(text, "geneval", 2, 0, 1, [item, plain])
    sec = Section(1, text, "understanding", (text, text), tbl, failures=[fs], galleries=[gal])
    board = Board([], [text], {text: "understanding"}, {text: (text, "")}, pd.DataFrame())
    return ReportData(board, tbl, tbl, [sec], text, [text])


@pytest.mark.parametrize("text", [ATTR_BREAK, SCRIPT, IMG, BREAK, *SSTI])
def test_template_shows_model_text_as_text(text):
    """Every slot escapes its value (autoescape) and none is evaluated as Jinja (model text is a
    variable's value, never template source): the page shows the text itself, `{{ 7*7 }}` not 49."""
    from janus_eval.analyse.reporting.page_html import render_html

    html = render_html(payload_document(text))
    page = Tags()
    page.feed(html)
    names = [t for t, _ in page.tags]
    assert "script" not in names and names.count("h1") == 1 and names.count("img") == 1
    assert not [a for _, attrs in page.tags for a in attrs if a.startswith("on")]
    shown = "".join(page.text)
    assert shown.count(text) >= 20, shown.count(text)  # every slot, as the text itself
    alt = next(attrs["alt"] for t, attrs in page.tags if t == "img")
    assert alt == text  # an attribute value stays one attribute
    if text in SSTI:
        assert "49" not in shown and "loop" not in shown.replace(text, "") and "Config" not in shown
    if any(c in text for c in '<>"'):
        assert text not in html  # nowhere raw: not in text, not in an attribute


def test_template_names_no_missing_field():
    """StrictUndefined: a field the template reads and the document lacks stops the report with the
    field's name; it is never rendered as an empty cell."""
    import dataclasses
    import types

    import jinja2

    from janus_eval.analyse.reporting.page_html import PAGE, environment, render_html

    data = payload_document("x")
    with pytest.raises(jinja2.UndefinedError, match="interval_note"):
        environment().get_template(PAGE).render(data=data)  # a template variable left out
    fs = data.sections[0].failures[0]
    fields = {k: v for k, v in dataclasses.asdict(fs).items() if k != "n_errors"}
    data.sections[0].failures[0] = types.SimpleNamespace(**fields)  # an older document's shape
    with pytest.raises(jinja2.UndefinedError, match="n_errors"):
        render_html(data)


def test_template_environment_escapes_and_loads_only_the_package_folder():
    import jinja2

    from janus_eval.analyse.reporting.page_html import TEMPLATES, environment

    env = environment()
    assert env.autoescape is True and env.undefined is jinja2.StrictUndefined
    assert isinstance(env.loader, jinja2.FileSystemLoader)
    assert [Path(p) for p in env.loader.searchpath] == [TEMPLATES]
    assert "|safe" not in (TEMPLATES / "leaderboard.html.j2").read_text(encoding="utf-8").replace(" ", "")


# --- the HTML in a real browser --------------------------------------------------------------------
def chromium(binary: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--mute-audio",
           f"--user-data-dir={tmp / 'profile'}", *args]  # fmt: skip
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=180)


def test_browser_renders_tables_and_images(browser, report, tmp_path):
    shot = tmp_path / "shot.png"
    url = (report["out"] / "leaderboard.html").as_uri()
    done = chromium(
        browser, tmp_path, "--window-size=1280,3000", "--hide-scrollbars", f"--screenshot={shot}", url
    )
    assert shot.exists(), done.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert pixels.shape[:2] == (3000, 1280)
    assert pixels.std() > 20  # not a blank page
    coloured = (pixels.max(axis=2) - pixels.min(axis=2)) > 60  # plot bars, coloured deltas
    assert coloured.mean() > 0.005

    # The page's own JavaScript-free DOM, after load: tables and images there, nothing injected.
    dom = chromium(browser, tmp_path, "--virtual-time-budget=3000", "--dump-dom", url).stdout
    assert "<title>janus-eval leaderboard</title>" in dom
    assert dom.count("<table") >= 6
    assert "<script" not in dom
    elements = re.findall(r"<img\b[^>]*>", dom)
    assert len(elements) == 14 and all(
        re.match(r'<img src="data:image/(png|jpeg);base64,', e) for e in elements
    )
    assert "&lt;script&gt;window.pwned" in dom


def test_browser_runs_nothing_a_model_wrote(browser, report, tmp_path):
    """A copy of the page without its Content-Security-Policy, with one probe script of ours:
    the escaping alone must keep the payloads from running or becoming elements."""
    html = report["html"]
    csp = re.search(r'<meta http-equiv="Content-Security-Policy"[^>]*>', html)
    assert csp is not None
    probe = (
        "<script>window.addEventListener('load',function(){setTimeout(function(){"
        "var im=Array.from(document.images);"
        "document.title='probe imgs='+im.length+' decoded='+im.filter(function(i){return i.complete&&i.naturalWidth>0}).length"
        "+' scripts='+document.scripts.length+' onerror='+document.querySelectorAll('[onerror]').length"
        "+' h1='+document.querySelectorAll('h1').length+' tables='+document.querySelectorAll('table').length"
        "+' pwned='+(window.pwned||0);},300);});</script>"
    )
    page = tmp_path / "probe.html"
    page.write_text(html.replace(csp.group(0), "").replace("</body>", probe + "</body>"), encoding="utf-8")
    dom = chromium(browser, tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.as_uri()).stdout
    title = re.search(r"<title>(.*?)</title>", dom)
    assert title is not None, dom[:500]
    found = dict(kv.split("=") for kv in title.group(1).removeprefix("probe ").split())
    assert found["pwned"] == "0"  # no payload ran (script or onerror)
    assert found["scripts"] == "1" and found["onerror"] == "0" and found["h1"] == "1"
    assert found["imgs"] == "14" and found["decoded"] == "14"  # every plot and thumbnail decodes
    assert int(found["tables"]) >= 6


@pytest.mark.parametrize("ci, outcome", [("true", "2 errors"), ("", "2 skipped")])
def test_browser_tests_fail_without_chromium_in_ci(tmp_path, ci, outcome):
    """The browser tests, in a child pytest whose PATH holds no Chromium: skipped on a
    workstation, an error (exit 1) where CI is set."""
    here = Path(__file__).resolve()
    env = {**os.environ, "PATH": str(tmp_path), "CI": ci, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{here}", "-k", "test_browser_r"],
        cwd=here.parent.parent, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert outcome in done.stdout, done.stdout[-2000:]
    assert done.returncode == (1 if ci else 0)
    if ci:
        assert "CI is set but headless Chromium is not installed" in done.stdout


def test_report_bad_input_exits_2(report, tmp_path):
    code, _, err = invoke("report", tmp_path / "nothing-here", "-o", tmp_path / "out")
    assert code == 2 and "not a run folder" in err
    unscored = tmp_path / "unscored"
    shutil.copytree(report["runs"][0], unscored)
    (unscored / "scores.csv").unlink()
    code, _, err = invoke("report", unscored, "-o", tmp_path / "out")
    assert code == 2 and "no scores.csv" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("line", ['{"sample_id": "x", "prediction": "Yes"', '"just a string"'])
def test_report_malformed_samples_line_exits_2_with_one_line(report, tmp_path, line):
    bad = tmp_path / "bad"
    shutil.copytree(report["runs"][0], bad)
    path = bad / "pope" / "samples.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:41] + [line + "\n"] + lines[41:]), encoding="utf-8")
    before = path.read_bytes()
    code, out, err = invoke("report", bad, "-o", tmp_path / "out")
    assert code == 2, out + err
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"error: {path}:42:")
    assert not (tmp_path / "out" / "leaderboard.html").exists()
    assert path.read_bytes() == before  # the report only reads the run folder


def test_report_takes_a_folder_of_runs(report, tmp_path):
    """`report results/`: every finished run the folder holds (an unfinished one left out with a
    note), as if each had been named."""
    root = report["runs"][0].parent
    unfinished = root / "zz-unfinished"
    shutil.copytree(report["runs"][0], unfinished)
    (unfinished / "scores.csv").unlink()
    try:
        code, _, err = invoke("report", root, "-o", tmp_path / "out")
    finally:
        shutil.rmtree(unfinished)
    assert code == 0, err
    assert "leaving out" in err and "zz-unfinished" in err
    runs = set(pd.read_csv(tmp_path / "out" / "leaderboard.csv").query("source == 'run'")["run"])
    assert runs == {p.name for p in report["runs"]}


def test_generation_cards_read_as_text():
    """GenEval's verdicts per image (each clause), DPG-Bench's per tile and per question."""
    from janus_eval.analyse.reporting.samples import card_lines

    geneval = [{"image": "a.png", "correct": False, "reason": "expected bench>=1, found 0\nexpected cat>=1, found 0",
                "details": {}}, {"image": "b.png", "correct": True, "reason": "", "details": {}}]  # fmt: skip
    assert card_lines(geneval) == [
        "image 1: wrong: expected bench>=1, found 0; expected cat>=1, found 0", "image 2: correct",
    ]  # fmt: skip
    assert card_lines(str(geneval)) == card_lines(geneval)  # as an older run stored it: Python's repr
    dpg = {"tile_scores": [1.0, 0.5], "answers": [{"1": "yes", "2": "yes"}, {"1": "yes", "2": "no"}],
           "questions": {"1": "Is there a plant?", "2": "Are the\nflowers orange?"}}  # fmt: skip
    assert card_lines(json.dumps(dpg)) == [
        "tile scores: 1.00, 0.50", "Q1 Is there a plant?: yes, yes", "Q2 Are the flowers orange?: yes, no",
    ]  # fmt: skip
    assert card_lines("failed: no questions") == [] and card_lines(None) == []


def test_run_colours_never_take_the_delta_colours():
    """Red is a drop and green a gain in the report; no run's bars are red or green."""
    import colorsys

    from janus_eval.analyse.reporting.plots import RUN_COLOURS

    for colour in RUN_COLOURS:
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        hue = colorsys.rgb_to_hsv(r, g, b)[0] * 360
        assert not (hue < 20 or hue > 340 or 75 < hue < 160), colour


def test_demo_runs_are_marked_wherever_their_numbers_are(tmp_path):
    code, _, err = invoke("run", "--tasks", "pope", "--model", "janus-tiny", "--demo", "--limit", "2",
                          "--output", tmp_path, "--run-id", "tiny", "--no-progress")  # fmt: skip
    assert code == 0, err
    code, _, err = invoke("report", tmp_path / "tiny", "-o", tmp_path / "site")
    assert code == 0, err
    html = (tmp_path / "site" / "leaderboard.html").read_text(encoding="utf-8")
    md = (tmp_path / "site" / "leaderboard.md").read_text(encoding="utf-8")
    label = "tiny (demo) (limit 2)"  # a demo run, and a partial one
    assert f"{label}: demo run(s)" in html and f"{label}: partial run(s)" in html and "random-weight judges" in md
    assert f"<td>{label}</td>" in html and f"| {label} |" in md
    assert set(pd.read_csv(tmp_path / "site" / "leaderboard.csv").query("source == 'run'")["run"]) == {label}
