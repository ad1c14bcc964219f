"""The LLM judge against a real HTTP server on 127.0.0.1: answers, timeouts, 500,
429, garbage, the on-disk cache (a rerun sends nothing) and the API key, which
must reach the server and nothing else."""

from __future__ import annotations

import json

import pytest
from llm_server import ChatServer

from janus_eval.core.errors import UsageError
from janus_eval.score.judges import Judges, make_llm_judge
from janus_eval.score.judges.llm import JudgeError, JudgeUnavailable, LLMJudge

SECRET = "sk-test-5f3a9c1e-never-on-disk"


def judge_for(server: ChatServer, tmp_path, **kw) -> LLMJudge:
    kw = {"timeout": 2.0, "backoff": 0.01, "max_backoff": 0.05, **kw}
    return LLMJudge(model="grader-1", base_url=server.base_url, api_key_env="JUDGE_TEST_KEY",
                    cache_path=tmp_path / "cache.jsonl", **kw)  # fmt: skip


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("JUDGE_TEST_KEY", SECRET)


def test_answer_request_shape_and_key_header(tmp_path):
    with ChatServer(lambda body, n: ("reply", "B")) as server:
        judge = judge_for(server, tmp_path)
        assert judge.ask("Which option?") == "B"
    (req,) = server.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["body"]["model"] == "grader-1"
    assert req["body"]["temperature"] == 0.0
    assert req["body"]["messages"] == [{"role": "user", "content": "Which option?"}]
    assert "max_tokens" not in req["body"]
    assert req["headers"]["Authorization"] == f"Bearer {SECRET}"


def test_no_key_needed_for_a_local_server(tmp_path, monkeypatch):
    monkeypatch.delenv("JUDGE_TEST_KEY")
    with ChatServer(lambda body, n: ("reply", "0.5")) as server:
        assert judge_for(server, tmp_path).ask("grade", max_tokens=3) == "0.5"
    assert "Authorization" not in server.requests[0]["headers"]
    assert server.requests[0]["body"]["max_tokens"] == 3


def test_cache_makes_a_rerun_send_nothing(tmp_path):
    prompts = [f"question {i}" for i in range(5)]
    with ChatServer(lambda body, n: ("reply", body["messages"][0]["content"].upper())) as server:
        first = judge_for(server, tmp_path)
        replies = [first.ask(p) for p in prompts]
        assert len(server.requests) == 5 and first.requests_sent == 5
        again = judge_for(server, tmp_path)  # a new process would build a new judge: same cache file
        assert [again.ask(p) for p in prompts] == replies == [p.upper() for p in prompts]
        assert len(server.requests) == 5 and again.requests_sent == 0
        # another model, another temperature or another run of the same prompt is a new request
        other = LLMJudge(model="grader-2", base_url=server.base_url, cache_path=tmp_path / "cache.jsonl")
        other.ask(prompts[0])
        again.ask(prompts[0], temperature=0.5)
        again.ask(prompts[0], sample=1)
        assert len(server.requests) == 8


def test_api_key_never_in_cache_file(tmp_path):
    with ChatServer(lambda body, n: ("reply", "1.0")) as server:
        judge = judge_for(server, tmp_path)
        judge.ask("grade this")
        assert server.requests[0]["headers"]["Authorization"].endswith(SECRET)  # the key was used...
    text = (tmp_path / "cache.jsonl").read_text()
    assert SECRET not in text  # ...and never written
    entry = json.loads(text.splitlines()[0])
    assert entry["model"] == "grader-1" and entry["prompt"] == "grade this" and entry["reply"] == "1.0"
    assert SECRET not in json.dumps(judge.describe()) and SECRET not in repr(judge)
    assert SECRET not in json.dumps(Judges(llm=judge, llm_runs=2).describe())


def test_timeout_is_retried(tmp_path):
    # the first request answers after the client's timeout; the retry is answered at once
    def policy(body, n):
        return ("sleep", 1.5, "late") if n == 0 else ("reply", "on time")
    with ChatServer(policy) as server:
        assert judge_for(server, tmp_path, timeout=0.3).ask("slow?") == "on time"
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_5xx_and_429_are_retried(tmp_path, status):
    def policy(body, n):
        return ("status", status) if n < 2 else ("reply", "fine")
    with ChatServer(policy) as server:
        assert judge_for(server, tmp_path).ask("x") == "fine"
    assert len(server.requests) == 3


def test_backoff_doubles_and_honours_retry_after(tmp_path, monkeypatch):
    waits = []
    monkeypatch.setattr("janus_eval.score.judges.llm.LLMJudge._pause", lambda self, s: waits.append(s))
    def policy(body, n):
        return ("status", 500) if n < 3 else ("status", 429, {"Retry-After": "7"})
    with ChatServer(policy) as server:
        judge = judge_for(server, tmp_path, backoff=1.0, max_backoff=60.0, max_retries=4)
        with pytest.raises(JudgeError):
            judge.ask("x")
    assert waits == [1.0, 2.0, 4.0, 8.0]  # the 429's Retry-After (7) is below the backoff (8) there
    waits.clear()
    with ChatServer(lambda body, n: ("status", 429, {"Retry-After": "5"})) as server:
        with pytest.raises(JudgeError):
            judge_for(server, tmp_path, backoff=1.0, max_backoff=60.0, max_retries=2).ask("y")
    assert waits == [5.0, 5.0]


def test_garbage_fails_at_once_without_the_key(tmp_path):
    """A reply that is not a chat completion says the URL is no chat server: no retry."""
    for i, garbage in enumerate(
        (b"not json", b'{"choices": []}', b'{"choices": [{"message": {"content": null}}]}')
    ):
        cache = tmp_path / f"garbage{i}"
        reply = ("raw", garbage)
        with ChatServer(lambda body, n, reply=reply: reply) as server, pytest.raises(JudgeError) as err:
            judge_for(server, cache, max_retries=2).ask("x")
        assert len(server.requests) == 1
        assert "not a chat completion" in str(err.value) or "no text content" in str(err.value)
        assert SECRET not in str(err.value)
        assert not (cache / "cache.jsonl").exists()  # a failure is never cached


def test_client_errors_fail_at_once(tmp_path):
    with ChatServer(lambda body, n: ("status", 401)) as server, pytest.raises(JudgeError) as err:
        judge_for(server, tmp_path).ask("x")
    assert len(server.requests) == 1
    assert "HTTP 401" in str(err.value) and "API key" in str(err.value) and SECRET not in str(err.value)


def test_unreachable_server_gives_judge_error(tmp_path):
    with ChatServer(lambda body, n: ("reply", "x")) as server:
        url = server.base_url
    judge = LLMJudge(model="m", base_url=url, cache_path=tmp_path / "c.jsonl", backoff=0.01, max_retries=2)
    with pytest.raises(JudgeError) as err:
        judge.ask("anyone?")
    assert judge.requests_sent == 1 and "cannot connect" in str(err.value)  # a refused connection: no retry


def test_make_llm_judge_from_options(tmp_path):
    assert make_llm_judge(None) is None
    judge = make_llm_judge("gpt-4-0613", "http://127.0.0.1:9/v1/", None, tmp_path / "c.jsonl")
    assert judge.describe() == {
        "model": "gpt-4-0613",
        "base_url": "http://127.0.0.1:9/v1",
        "api_key_env": "OPENAI_API_KEY",
        "concurrency": 4,
    }


# --- circuit breaker: a dead judge stops the command instead of costing minutes per sample ---------
def dead_url() -> str:
    with ChatServer(lambda body, n: ("reply", "x")) as server:
        return server.base_url  # closed on exit: nothing listens on that port any more


def assert_unavailable(err: JudgeUnavailable, url: str) -> None:
    text = str(err)
    assert isinstance(err, UsageError) and "\n" not in text
    assert f"LLM judge grader-1 at {url} failed 3 requests in a row" in text and SECRET not in text


def test_breaker_opens_after_three_unreachable_requests(tmp_path):
    url = dead_url()
    judge = LLMJudge(model="grader-1", base_url=url, cache_path=tmp_path / "c.jsonl", backoff=0.01, max_retries=1)
    for i in range(2):  # one sample's failure each: scorers count these as judge errors
        with pytest.raises(JudgeError) as err:
            judge.ask(f"q{i}")
        assert not isinstance(err.value, JudgeUnavailable)
    with pytest.raises(JudgeUnavailable) as err:
        judge.ask("q2")
    assert_unavailable(err.value, url)
    assert "cannot connect" in str(err.value) and judge.requests_sent == 3
    with pytest.raises(JudgeUnavailable):  # open: later asks fail at once, sending nothing
        judge.ask("q3")
    assert judge.requests_sent == 3


def stopped_within(judge: LLMJudge, seconds: float) -> JudgeUnavailable:
    """Ask until the breaker opens; it must open within `seconds` (with the real backoff)."""
    import time

    started = time.monotonic()
    for i in range(10):
        try:
            judge.ask(f"q{i}")
        except JudgeUnavailable as exc:
            assert time.monotonic() - started < seconds
            return exc
        except JudgeError:
            continue
    raise AssertionError("the breaker never opened")


@pytest.mark.parametrize("case", ["refused", "unknown host", "garbage", "401", "403", "404"])
def test_a_judge_that_cannot_answer_stops_within_seconds(tmp_path, monkeypatch, case):
    """With the default retries and backoff (62 s a request), a judge that cannot answer at all
    stops the command in seconds with the one line, not after minutes."""
    import socket
    import urllib.error

    if case == "refused":
        url = dead_url()
    elif case == "unknown host":
        url = "http://judge.invalid/v1"

        def no_such_host(*args, **kwargs):
            raise urllib.error.URLError(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))

        monkeypatch.setattr("janus_eval.score.judges.llm._post", no_such_host)
    if case in ("refused", "unknown host"):
        judge = LLMJudge(model="grader-1", base_url=url, cache_path=tmp_path / "c.jsonl")
        assert_unavailable(stopped_within(judge, 10), url)
        assert judge.requests_sent == 3
        return
    reply = ("raw", b"<html>not an API</html>") if case == "garbage" else ("status", int(case))
    with ChatServer(lambda body, n: reply) as server:
        judge = LLMJudge(model="grader-1", base_url=server.base_url, cache_path=tmp_path / "c.jsonl")
        assert_unavailable(stopped_within(judge, 10), server.base_url)
    assert len(server.requests) == 3


@pytest.mark.parametrize("error", [ConnectionResetError, "EAI_AGAIN"])
def test_dropped_connections_are_still_retried(tmp_path, monkeypatch, error):
    import socket
    import urllib.error

    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if error == "EAI_AGAIN":
            raise urllib.error.URLError(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))
        raise error("reset by peer")

    monkeypatch.setattr("janus_eval.score.judges.llm._post", flaky)
    judge = LLMJudge(model="m", base_url="http://127.0.0.1:9/v1", cache_path=tmp_path / "c.jsonl",
                     backoff=0.001, max_retries=2)  # fmt: skip
    with pytest.raises(JudgeError) as err:
        judge.ask("x")
    assert len(calls) == 3 and "after 3 tries" in str(err.value)


def test_breaker_opens_on_a_server_that_always_fails(tmp_path, monkeypatch):
    waits = []
    monkeypatch.setattr("janus_eval.score.judges.llm.LLMJudge._pause", lambda self, s: waits.append(s))
    with ChatServer(lambda body, n: ("status", 500)) as server:
        judge = judge_for(server, tmp_path)  # the default 5 retries
        for i in range(2):
            with pytest.raises(JudgeError):
                judge.ask(f"q{i}")
        with pytest.raises(JudgeUnavailable) as err:
            judge.ask("q2")
        with pytest.raises(JudgeUnavailable):
            judge.ask("q3")
    assert_unavailable(err.value, server.base_url)
    assert "HTTP 500" in str(err.value)
    assert len(server.requests) == 3 * 6 and len(waits) == 3 * 5


def test_breaker_counts_only_failures_in_a_row(tmp_path):
    # every third prompt is answered: never three failures in a row
    def policy(body, n):
        return ("reply", "ok") if "fine" in body["messages"][0]["content"] else ("status", 503)
    with ChatServer(policy) as server:
        judge = judge_for(server, tmp_path, max_retries=0)
        for i in range(9):
            if i % 3 == 2:
                assert judge.ask(f"fine {i}") == "ok"
            else:
                with pytest.raises(JudgeError) as err:
                    judge.ask(f"q{i}")
                assert not isinstance(err.value, JudgeUnavailable)
    # a prompt-specific refusal (HTTP 400) says nothing about the judge: it never opens the breaker
    with ChatServer(lambda body, n: ("status", 400)) as server:
        judge = judge_for(server, tmp_path / "b")
        for i in range(5):
            with pytest.raises(JudgeError) as err:
                judge.ask(f"q{i}")
            assert not isinstance(err.value, JudgeUnavailable)
    # a wrong model or URL (404) is the same for every prompt: it does
    with ChatServer(lambda body, n: ("status", 404)) as server:
        judge = judge_for(server, tmp_path / "c")
        raised = []
        for i in range(3):
            with pytest.raises(JudgeError) as err:
                judge.ask(f"q{i}")
            raised.append(type(err.value))
        assert raised == [JudgeError, JudgeError, JudgeUnavailable] and len(server.requests) == 3


def test_run_and_score_share_one_definition_of_the_judge_options():
    import inspect

    import typer.main

    from janus_eval import cli

    commands = typer.main.get_command(cli.app).commands

    def judge_options(name: str) -> dict:
        return {
            p.opts[0]: (p.help, str(p.bare_type), p.min, p.default)
            for p in commands[name].params
            if p.name.startswith("judge_")
        }

    run, score = judge_options("run"), judge_options("score")
    assert run == score
    assert set(run) == {
        "--judge-model", "--judge-base-url", "--judge-api-key-env", "--judge-runs", "--judge-timeout",
        "--judge-concurrency",
    }  # fmt: skip
    assert run["--judge-runs"][2] == 1 and run["--judge-model"][0] == cli.JUDGE_HELP
    source = inspect.getsource(cli)
    for flag in run:  # defined once, used by both commands
        assert source.count(f'"{flag}"') == 1, flag
