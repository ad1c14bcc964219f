"""The LLM judge against a server that breaks HTTP itself (issue 16): a connection dropped
mid-reply (`http.client.IncompleteRead`), a line that is not HTTP (`BadStatusLine`), a server
that accepts and never answers. Each is retried as transient inside the retry logic, then the
one line naming the judge's URL and model (exit 2); `--judge-timeout` bounds the whole wait."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from conftest import run_subprocess
from llm_server import completion

from janus_eval.score.judges.llm import JudgeError, JudgeUnavailable, LLMJudge


class WireServer:
    """A TCP server on 127.0.0.1 that answers connection n with `replies(n)` bytes (None: read
    the request and never answer)."""

    def __init__(self, replies):
        self.replies = replies
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.connections = 0
        self.open: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            n, self.connections = self.connections, self.connections + 1
            self.open.append(conn)
            conn.settimeout(5)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")),
                    0,
                )  # fmt: skip
                while len(body) < length:
                    body += conn.recv(65536)
                reply = self.replies(n)
                if reply is not None:
                    conn.sendall(reply)
                    conn.close()
            except OSError:
                conn.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.sock.close()
        for conn in self.open:
            conn.close()


def ok_reply(text: str) -> bytes:
    body = completion(text)
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def cut_reply(text: str) -> bytes:
    full = ok_reply(text)
    return full.replace(b"Content-Length: %d" % len(completion(text)), b"Content-Length: 9999")  # then closes


NOT_HTTP = b"SSH-2.0-OpenSSH_9.6\r\n"


def judge_for(server, tmp_path, **kw):
    kw = {"timeout": 2.0, "backoff": 0.01, "max_backoff": 0.05, **kw}
    return LLMJudge(model="grader-x", base_url=server.base_url, cache_path=tmp_path / "cache.jsonl", **kw)


@pytest.mark.parametrize("broken", [cut_reply("half"), NOT_HTTP], ids=["IncompleteRead", "BadStatusLine"])
def test_a_broken_reply_is_retried_as_transient(tmp_path, broken):
    with WireServer(lambda n: broken if n == 0 else ok_reply("fine")) as server:
        assert judge_for(server, tmp_path).ask("q?") == "fine"
        assert server.connections == 2


def test_always_broken_ends_in_the_one_line_naming_url_and_model(tmp_path):
    with WireServer(lambda n: NOT_HTTP if n % 2 else cut_reply("x")) as server:
        judge = judge_for(server, tmp_path, max_retries=1)
        for _ in range(2):
            with pytest.raises(JudgeError) as info:
                judge.ask(f"q{_}")
            assert not isinstance(info.value, JudgeUnavailable)
        with pytest.raises(JudgeUnavailable) as info:
            judge.ask("q3")
    message = str(info.value)
    assert server.base_url in message and "grader-x" in message and "broken reply" in message
    assert "\n" not in message


def test_a_hang_cannot_exceed_the_bound(tmp_path):
    with WireServer(lambda n: None) as server:  # accepts, reads, never answers
        judge = judge_for(server, tmp_path, timeout=0.2, max_wait=0.8, max_retries=50, max_consecutive_failures=100)
        started = time.monotonic()
        with pytest.raises(JudgeUnavailable) as info:
            for i in range(100):
                try:
                    judge.ask(f"q{i}")
                except JudgeUnavailable:
                    raise
                except JudgeError:
                    continue
        assert time.monotonic() - started < 3.0
    assert "no reply for 0.8s" in str(info.value) and server.base_url in str(info.value)


MMVET_ROW = {"question_id": "v1", "question": "What is it?", "answer": "cat", "capability": "rec", "prediction": "a cat"}


@pytest.mark.parametrize("reply", [NOT_HTTP, None], ids=["not HTTP", "hang"])
def test_score_through_the_command_line_stops_within_the_judge_timeout(tmp_path, reply):
    samples = tmp_path / "mmvet.jsonl"
    samples.write_text("".join(json.dumps({**MMVET_ROW, "question_id": f"v{i}"}) + "\n" for i in range(5)))
    with WireServer(lambda n: reply) as server:
        started = time.monotonic()
        proc = run_subprocess(
            "score", "--task", "mmvet", samples, "--output", tmp_path / "out", "--judge-model", "grader-x",
            "--judge-base-url", server.base_url, "--judge-timeout", "0.3",
            env={"JANUS_EVAL_CACHE": str(tmp_path / "cache")}, timeout=120,
        )  # fmt: skip
        elapsed = time.monotonic() - started
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert lines[0] == "mmvet: judging: 5 samples to go", proc.stderr  # the judging bar's start line
    assert len(lines) == 2 and server.base_url in lines[1] and "grader-x" in lines[1], proc.stderr  # one error line
    assert "Traceback" not in proc.stderr
    assert elapsed < 30  # 5 x 0.3 s of waiting, plus the interpreter's start


def test_judge_timeout_value_is_checked():
    proc = run_subprocess("score", "--task", "mmvet", "x.jsonl", "--judge-timeout", "nan", timeout=60)
    assert proc.returncode == 2 and "'--judge-timeout'" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
