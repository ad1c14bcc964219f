"""--judge-concurrency (issue 12) and the whole-try deadline (issue 16) against real local servers.

Up to N judge requests are in flight at once, yet every score, record, cache entry and request
count equals a sequential run's: each reply is keyed by its prompt and settings, never by when it
came. A rerun sends nothing; a dead judge still stops the command within seconds with one line.
A server that trickles its reply a byte at a time is cut off at `--judge-timeout`."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from conftest import run_subprocess
from llm_server import ChatServer, completion, mmvet_grader

from janus_eval.runner import score_samples_file
from janus_eval.score.judges import Judges
from janus_eval.score.judges.llm import JudgeError, JudgeUnavailable, LLMJudge
from janus_eval.tasks.registry import load_task


class InFlight:
    """A policy for ChatServer: `grade`'s reply after `delay` seconds, counting the requests
    being answered at once (`most`: the largest such count)."""

    def __init__(self, grade=mmvet_grader, delay: float = 0.05):
        self.grade, self.delay = grade, delay
        self.now = self.most = 0
        self._lock = threading.Lock()

    def __call__(self, body, n):
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(self.delay)
            return self.grade(body, n)
        finally:
            with self._lock:
                self.now -= 1


def judge_for(url: str, cache, concurrency: int, **kw) -> LLMJudge:
    kw = {"timeout": 5.0, "backoff": 0.01, "max_backoff": 0.05, **kw}
    return LLMJudge(model="grader-x", base_url=url, cache_path=cache, concurrency=concurrency, **kw)


def dead_url() -> str:
    with ChatServer(lambda body, n: ("reply", "x")) as server:
        return server.base_url  # closed on exit: nothing listens on that port any more


# MM-Vet rows: right, wrong, unreadable grades (the retry chain at rising temperature), and
# two rows with one prompt (one request per key, however many ask it at once)
ROWS = [
    {"question": f"What is shown {i}?", "answer": "cat<AND>dog" if i % 3 else "red<OR>blue",
     "capability": ["rec", "ocr", "know"][i % 3], "prediction": ["a cat and a dog", "blue", "a fish", "garbage"][i % 4]}
    for i in range(14)
] + [{"question": "Same?", "answer": "yes", "capability": "rec", "prediction": "yes"}] * 2  # fmt: skip


def mmvet_file(tmp_path):
    path = tmp_path / "mmvet.jsonl"
    path.write_text("".join(json.dumps({**r, "question_id": f"v{i}"}) + "\n" for i, r in enumerate(ROWS)))
    return path


def score_mmvet(path, url, cache, concurrency: int):
    judge = judge_for(url, cache, concurrency)
    records, table = score_samples_file(load_task("mmvet"), path, Judges(llm=judge, llm_runs=3))
    return records, table, judge


def test_requests_overlap_with_n_4_and_never_with_n_1(tmp_path):
    prompts = [f"prompt {i}" for i in range(12)]
    for n, check in ((4, lambda most: most > 1), (1, lambda most: most == 1)):
        policy = InFlight(lambda body, _: ("reply", body["messages"][0]["content"].upper()))
        with ChatServer(policy) as server:
            judge = judge_for(server.base_url, tmp_path / f"c{n}.jsonl", n)
            assert judge.ask_all(judge.ask, prompts) == [p.upper() for p in prompts]  # in the items' order
        assert check(policy.most), (n, policy.most)
        assert len(server.requests) == len(prompts)


def test_mmvet_scores_records_and_cache_equal_a_sequential_run(tmp_path):
    path = mmvet_file(tmp_path)
    results = {}
    for n in (1, 4):
        policy = InFlight()
        with ChatServer(policy) as server:
            records, table, judge = score_mmvet(path, server.base_url, tmp_path / f"c{n}.jsonl", n)
            results[n] = (records, table, len(server.requests), judge.requests_sent, policy.most)
            again_records, again_table, again = score_mmvet(path, server.base_url, tmp_path / f"c{n}.jsonl", n)
            assert again.requests_sent == 0 and len(server.requests) == results[n][2]  # the rerun: all cached
            assert again_records == records and again_table.equals(table)
    (rec1, table1, sent1, made1, most1), (rec4, table4, sent4, made4, most4) = results[1], results[4]
    assert most1 == 1 and most4 > 1
    assert rec4 == rec1 and table4.equals(table1)
    assert sent4 == sent1 == made4 == made1
    # sixteen rows, three runs, the two equal rows one prompt; each unreadable grade asked 1 + 4 times
    assert sent1 == 15 * 3 + 3 * 3 * 4
    assert any(r["parsed"] == "judge_error" for r in rec1) and {r["parsed"] for r in rec1} > {"1 1 1", "0 0 0"}

    def lines(n):
        return sorted((tmp_path / f"c{n}.jsonl").read_text().splitlines())

    assert lines(4) == lines(1) and all(json.loads(line) for line in lines(4))


def test_a_judge_whose_replies_vary_gives_the_sequential_grades(tmp_path):
    """Runs of one prompt send one body; a judge that answers it differently each time (0.2, then
    0.6, then 1.0) gives run j its j-th reply whatever the concurrency: a sample's runs are asked
    in order."""
    def varying(body, n):
        prompt = body["messages"][0]["content"]
        with lock:
            seen[prompt] = seen.get(prompt, 0) + 1
            return ("reply", ["0.2", "0.6", "1.0"][(seen[prompt] - 1) % 3])

    lock, parsed = threading.Lock(), {}
    for n in (1, 4):
        seen: dict[str, int] = {}
        with ChatServer(InFlight(varying, delay=0.01)) as server:
            records, _, _ = score_mmvet(mmvet_file(tmp_path), server.base_url, tmp_path / f"v{n}.jsonl", n)
        parsed[n] = [r["parsed"] for r in records]
    assert parsed[4] == parsed[1] and parsed[1][0] == "0.2 0.6 1"


def test_mmbench_judge_matches_equal_a_sequential_run(tmp_path):
    options = {"A": "cat", "B": "dog", "C": "bird", "D": "fish"}
    rows = [{"index": i, "question": f"q{i}", **options, "answer": "AB"[i % 2], "category": "c", "L2-category": "l",
             "prediction": f"hmm {i}"} for i in range(12)]  # fmt: skip
    path = tmp_path / "mmb.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    def letter(body, n):  # Z (no match) for some: their tries are asked again
        answer = body["messages"][0]["content"].rsplit("Answer: ", 1)[1].split("\n")[0]
        return ("reply", "ABCDZ"[int(answer.split()[1]) % 5])

    out = {}
    for n in (1, 4):
        with ChatServer(InFlight(letter)) as server:
            judge = judge_for(server.base_url, tmp_path / f"m{n}.jsonl", n)
            records, table = score_samples_file(load_task("mmbench"), path, Judges(llm=judge))
            out[n] = (records, table, len(server.requests))
    assert out[4][0] == out[1][0] and out[4][1].equals(out[1][1]) and out[4][2] == out[1][2]


def test_dead_judge_with_concurrency_stops_within_seconds(tmp_path):
    """The default retries and backoff: a refused connection opens the breaker at once."""
    url = dead_url()
    judge = LLMJudge(model="grader-x", base_url=url, cache_path=tmp_path / "c.jsonl", concurrency=4)
    started = time.monotonic()
    with pytest.raises(JudgeUnavailable) as err:
        score_samples_file(load_task("mmvet"), mmvet_file(tmp_path), Judges(llm=judge, llm_runs=5))
    assert time.monotonic() - started < 10
    assert f"LLM judge grader-x at {url} failed 3 requests in a row" in str(err.value)
    assert judge.requests_sent < 3 + 4  # those in flight when it opened, then nothing


def test_a_failing_judge_with_concurrency_stops_sending(tmp_path, monkeypatch):
    monkeypatch.setattr("janus_eval.score.judges.llm.LLMJudge._pause", lambda self, s: None)
    with ChatServer(lambda body, n: ("status", 500)) as server:
        judge = judge_for(server.base_url, tmp_path / "c.jsonl", 4)
        with pytest.raises(JudgeUnavailable) as err:
            score_samples_file(load_task("mmvet"), mmvet_file(tmp_path), Judges(llm=judge))
        sent = len(server.requests)
        with pytest.raises(JudgeUnavailable):  # open: nothing more is sent
            judge.ask("later")
        assert len(server.requests) == sent
    assert "failed 3 requests in a row (last: HTTP 500)" in str(err.value)
    assert 3 * 6 <= sent <= (3 + 3) * 6  # three asks' tries, and at most the other threads' under way


def test_requests_under_way_are_cut_when_the_breaker_opens(tmp_path):
    """Three asks hang (a 20 s timeout), three more fail at once (HTTP 404): the breaker opens
    on the third failure and cuts the hanging requests then, not at their timeout."""
    def policy(body, n):
        return ("sleep", 30, "late") if "hang" in body["messages"][0]["content"] else ("status", 404)

    def one(prompt):  # as the scorers do: one sample's failure is a judge error, not a stop
        try:
            return judge.ask(prompt)
        except JudgeUnavailable:
            raise
        except JudgeError:
            return None

    with ChatServer(policy) as server:
        judge = judge_for(server.base_url, tmp_path / "c.jsonl", 4, timeout=20.0)
        started = time.monotonic()
        with pytest.raises(JudgeUnavailable) as err:
            judge.ask_all(one, ["hang 0", "hang 1", "hang 2", "fail 0", "fail 1", "fail 2", "fail 3"])
        assert time.monotonic() - started < 5
    assert "failed 3 requests in a row (last: HTTP 404)" in str(err.value)


def test_ctrl_c_cuts_the_requests_under_way(tmp_path):
    import os
    import signal

    with ChatServer(lambda body, n: ("sleep", 30, "late")) as server:
        judge = judge_for(server.base_url, tmp_path / "c.jsonl", 4, timeout=20.0)
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            judge.ask_all(judge.ask, [f"prompt {i}" for i in range(8)])
        assert time.monotonic() - started < 5
        assert len(server.requests) == 4  # the four under way, cut; none started after
        assert not judge.unavailable  # the cuts were not the judge's failures


def test_command_line_dead_judge_is_one_line_exit_2(tmp_path):
    url = dead_url()
    started = time.monotonic()
    proc = run_subprocess(
        "score", "--task", "mmvet", mmvet_file(tmp_path), "--output", tmp_path / "out", "--judge-model", "grader-x",
        "--judge-base-url", url, "--judge-concurrency", "4", "--judge-runs", "5",
        env={"JANUS_EVAL_CACHE": str(tmp_path / "cache")}, timeout=120,
    )  # fmt: skip
    assert time.monotonic() - started < 30  # seconds of judging at most, plus the interpreter's start
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == "mmvet: judging: 16 samples to go"  # the judging bar's start line (no terminal)
    (line,) = lines[1:]  # no end line: it did not end; and no traceback
    assert line.startswith(f"error: LLM judge grader-x at {url} failed 3 requests in a row"), line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_command_line_concurrency_changes_no_output_and_is_in_the_manifest(tmp_path):
    path = mmvet_file(tmp_path)
    with ChatServer(InFlight()) as server:
        for n in (1, 4):
            proc = run_subprocess(
                "score", "--task", "mmvet", path, "--output", tmp_path / "out", "--run-id", f"n{n}",
                "--judge-model", "grader-x", "--judge-base-url", server.base_url, "--judge-concurrency", str(n),
                "--judge-runs", "2", env={"JANUS_EVAL_CACHE": str(tmp_path / f"cache{n}")}, timeout=120,
            )  # fmt: skip
            assert proc.returncode == 0, proc.stderr
    one, four = tmp_path / "out" / "n1", tmp_path / "out" / "n4"
    assert (one / "mmvet" / "samples.jsonl").read_bytes() == (four / "mmvet" / "samples.jsonl").read_bytes()
    assert (one / "scores.csv").read_bytes() == (four / "scores.csv").read_bytes()
    m1, m4 = (json.loads((d / "manifest.json").read_text()) for d in (one, four))
    assert m1["judge"]["llm"]["concurrency"] == 1 and m4["judge"]["llm"]["concurrency"] == 4
    assert m1["tasks"]["mmvet"]["config_hash"] == m4["tasks"]["mmvet"]["config_hash"]


@pytest.mark.parametrize("value", ["0", "abc", "-2"])
@pytest.mark.parametrize("command", ["run", "score"])
def test_judge_concurrency_value_is_checked(command, value):
    args = ["--tasks", "mmvet", "--model", "janus-tiny"] if command == "run" else ["--task", "mmvet", "x.jsonl"]
    proc = run_subprocess(command, *args, "--judge-concurrency", value, timeout=60)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "'--judge-concurrency'" in line


# --- issue 16: a trickling judge cannot exceed the bound --------------------------------------------
class TrickleServer:
    """Answers every request with a whole chat completion sent `delay` seconds a byte; with
    `length=False` the headers come at once and the body, without a length, trickles until closed."""

    def __init__(self, delay: float, length: bool = True):
        self.delay, self.length = delay, length
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.cut = 0  # connections the client closed before the reply was whole

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        body = completion("0.7")
        head = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            if self.length:
                slow = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
            else:
                conn.sendall(head + b"\r\n")
                slow = body
            for i in range(len(slow)):
                conn.sendall(slow[i : i + 1])
                time.sleep(self.delay)
        except OSError:
            self.cut += 1
        finally:
            conn.close()

    def __enter__(self):
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.sock.close()


@pytest.mark.parametrize("length", [True, False], ids=["whole reply trickles", "body without length trickles"])
def test_a_trickling_judge_is_cut_off_at_the_timeout(tmp_path, length):
    with TrickleServer(delay=0.05, length=length) as server:  # ~12 s a reply, each byte well within the timeout
        judge = judge_for(server.base_url, tmp_path / "c.jsonl", 1, timeout=0.5, max_retries=0)
        started = time.monotonic()
        with pytest.raises(JudgeError) as err:
            judge.ask("grade")
        assert time.monotonic() - started < 2.0
        assert "timed out after 0.5s" in str(err.value)
        # retried, a trickle is a hang: the bound on the whole wait still holds
        judge = judge_for(server.base_url, tmp_path / "d.jsonl", 1, timeout=0.3, max_wait=1.0, max_retries=50,
                          max_consecutive_failures=100)  # fmt: skip
        started = time.monotonic()
        with pytest.raises(JudgeUnavailable) as unavailable:
            judge.ask("grade")
        assert time.monotonic() - started < 2.5
    assert "no reply for 1s" in str(unavailable.value)
    assert not (tmp_path / "c.jsonl").exists()  # nothing cut short was cached


def test_a_slow_but_whole_reply_within_the_timeout_is_kept(tmp_path):
    with TrickleServer(delay=0.001) as server:  # ~0.3 s a reply
        judge = judge_for(server.base_url, tmp_path / "c.jsonl", 1, timeout=5.0, max_retries=0)
        assert judge.ask("grade") == "0.7"
