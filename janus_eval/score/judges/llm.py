"""The LLM judge: an OpenAI-compatible chat-completions client with an on-disk cache.

`LLMJudge.ask(prompt)` sends one user message and returns the reply text.

- The endpoint is `{base_url}/chat/completions` (OpenAI, vLLM, llama.cpp server,
  Ollama, LM Studio, ... all speak it). The API key is read from the environment
  variable named by `api_key_env` at call time; it is optional (a local server
  needs none) and it never reaches a file, a log line or an exception message.
- Every reply is cached on disk (one JSON line per call) under a key made of the
  model, the prompt and the sampling settings, so a rerun sends nothing. The
  cache holds the model name, the prompt and the reply, never headers.
- Transient failures are retried with exponential backoff (honouring Retry-After):
  timeouts, dropped connections and any other transport error (a connection cut
  mid-reply: `http.client.IncompleteRead`; a line that is not HTTP: `BadStatusLine`),
  HTTP 429 and 5xx. A judge that cannot answer at all is not retried, since no retry
  would change its answer: a refused connection, an unknown host, HTTP 401/403/404
  (a wrong key, URL or model), a reply that is not a chat completion; nor is HTTP 400
  (this prompt refused). When the retries run out, or at once for those, `JudgeError`
  is raised: scorers record it as `judge_error`, never as a score.
- Circuit breaker: after `max_consecutive_failures` (3) requests in a row have
  failed that way (no answer after the retries, or one that cannot answer at all),
  the judge is taken for unavailable (a dead judge stops the command within
  seconds, not after minutes of backoff): `JudgeUnavailable`
  is raised then and on every later ask, without sending anything. It is a
  `UsageError` too, which no scorer swallows: the command stops with one line
  naming the URL and the model, and the answered samples stay in the run folder.
- A bound on the whole wait: once the judge has given no reply for `max_wait` seconds in a
  row (default 5 x `timeout`; every try's timeout and backoff is cut to what is left), it is
  taken for unavailable too, so a hanging server cannot hold the command longer than that.
  `timeout` bounds a whole try (connection, headers and body), not each read: a server that
  trickles its reply a byte at a time has its connection cut at the deadline (`_Deadline`).
- Concurrency: `ask` may be called from several threads at once; `ask_all` runs a scorer's
  asks `concurrency` at a time (`--judge-concurrency`, default 4; urllib blocks, so threads)
  and returns the results in the items' order. Every reply is keyed by its prompt and settings,
  never by when it came, so scores equal a sequential run's. Two asks of one key at once send
  one request (the second waits for the first's reply in the cache). Once the breaker opens
  (or on Ctrl-C) the requests under way are cut and no thread retries: a dead judge still stops
  the command within seconds.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from janus_eval.core.errors import UsageError
from janus_eval.core.paths import cache_root
from janus_eval.core.progress import progress

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_CONCURRENCY = 4  # requests in flight at once (inspect's --max-connections, VLMEvalKit's --api-nproc)

T = TypeVar("T")
R = TypeVar("R")


class JudgeError(Exception):
    """The judge gave no usable reply after its retries (the message never holds the key).

    `reason`: the short cause; `systemic`: whether it says the judge itself is unusable
    (down, or a wrong URL/key/model) rather than refusing this one prompt (HTTP 400)."""

    def __init__(self, message: str, *, reason: str = "", systemic: bool = True):
        super().__init__(message)
        self.reason = reason or message
        self.systemic = systemic


class JudgeUnavailable(JudgeError, UsageError):
    """Several requests in a row failed: the judge is down or misconfigured. Scorers let it
    pass (it is not one sample's failure) and the command line prints it and exits 2."""


_CONFIG_STATUSES = (401, 403, 404)  # the same answer for every prompt: a wrong key, URL or model


def default_cache_path() -> Path:
    return cache_root() / "llm-judge.jsonl"


class JudgeCache:
    """Append-only JSON-lines cache: {"key", "model", "prompt", "reply"} per line."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._data: dict[str, str] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    self._data[entry["key"]] = entry["reply"]
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut off by a kill: ignore it

    def get(self, key: str) -> str | None:
        return self._data.get(key)

    def put(self, key: str, model: str, prompt: str, reply: str) -> None:
        with self._lock:
            self._data[key] = reply
            self.path.parent.mkdir(parents=True, exist_ok=True)
            line = json.dumps(
                {"key": key, "model": model, "prompt": prompt, "reply": reply}, ensure_ascii=False
            )
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
                fh.flush()

    def __len__(self) -> int:
        return len(self._data)


class _NoAnswer(Exception):
    """The judge cannot answer at all (no server there, or not a chat-completions server):
    every retry would fail the same way, so none is made."""


def _cannot_connect(reason: object) -> bool:
    """A refused connection or an unknown host (not DNS's own "try again")."""
    if isinstance(reason, socket.gaierror):
        return reason.errno != getattr(socket, "EAI_AGAIN", None)
    return isinstance(reason, ConnectionRefusedError)


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass
class LLMJudge:
    model: str
    base_url: str = DEFAULT_BASE_URL
    api_key_env: str = DEFAULT_API_KEY_ENV
    cache_path: Path | None = None  # None: default_cache_path(); the cache is always on
    timeout: float = 60.0  # seconds per request
    max_retries: int = 5  # retries after the first try
    backoff: float = 2.0  # first wait in seconds, doubled each retry
    max_backoff: float = 60.0
    max_consecutive_failures: int = 3  # failed requests in a row (after retries) that stop the judge
    max_wait: float | None = None  # seconds without any reply that stop the judge (None: 5 x timeout)
    concurrency: int = DEFAULT_CONCURRENCY  # asks in flight at once in `ask_all` (1: one after another)
    requests_sent: int = field(default=0, init=False)  # HTTP requests actually made (tests, logs)
    _failures: int = field(default=0, init=False, repr=False)  # failed requests in a row
    _last_failure: str = field(default="", init=False, repr=False)
    _failing_since: float | None = field(default=None, init=False, repr=False)  # start of the first failed try
    _hung: bool = field(default=False, init=False, repr=False)  # no reply for max_wait seconds
    _open: bool = field(default=False, init=False, repr=False)  # the breaker: taken for unavailable
    _cache: JudgeCache | None = field(default=None, init=False, repr=False)
    # threads share the state above: `_lock` guards it; `_pending` holds the keys being asked
    # (the event is set once the reply is cached or the ask failed). `_halt` (the judge is taken
    # for unavailable, or Ctrl-C) sets `_stop`, which wakes backoff waits and ends retries, and
    # cuts the requests under way (`_live`), so no thread keeps waiting on a dead judge
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _pending: dict[str, threading.Event] = field(default_factory=dict, init=False, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _live: set[_Deadline] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("the LLM judge needs a model name (--judge-model)")
        if self.concurrency < 1:
            raise ValueError(f"the LLM judge's concurrency must be at least 1, not {self.concurrency}")
        self.base_url = self.base_url.rstrip("/")
        self.cache_path = Path(self.cache_path) if self.cache_path else default_cache_path()

    @property
    def cache(self) -> JudgeCache:
        if self._cache is None:
            self._cache = JudgeCache(Path(self.cache_path or default_cache_path()))
        return self._cache

    def describe(self) -> dict[str, Any]:
        """What the manifest records (no key, only the name of its variable). The concurrency
        changes no reply, so it is recorded here, never in a task's config hash."""
        return {
            "model": self.model, "base_url": self.base_url, "api_key_env": self.api_key_env,
            "concurrency": self.concurrency,
        }  # fmt: skip

    def cache_key(self, prompt: str, *, temperature: float, max_tokens: int | None, sample: int) -> str:
        blob = json.dumps([self.model, prompt, temperature, max_tokens, sample], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def ask(
        self, prompt: str, *, temperature: float = 0.0, max_tokens: int | None = None, sample: int = 0
    ) -> str:
        """The judge's reply to `prompt`. `sample` tells repeated runs of one prompt
        apart (MM-Vet's judge runs): each is its own request and its own cache entry."""
        key = self.cache_key(prompt, temperature=temperature, max_tokens=max_tokens, sample=sample)
        while True:
            with self._lock:
                cached = self.cache.get(key)
                if cached is not None:
                    return cached
                if self.unavailable:
                    raise self._unavailable()
                asking = self._pending.get(key)
                if asking is None:  # this thread sends it
                    done = self._pending[key] = threading.Event()
                    break
            asking.wait()  # another thread is asking the same: its reply lands in the cache
        try:
            reply = self._request(prompt, temperature=temperature, max_tokens=max_tokens)
            with self._lock:
                if not self._open:  # a reply under way when the breaker opened keeps it open
                    self._failures = 0
                self._failing_since = None
                self.cache.put(key, self.model, prompt, reply)
            return reply
        except JudgeUnavailable:
            raise
        except JudgeError as exc:
            with self._lock:
                if not exc.systemic:  # an answer (HTTP 400 to this prompt): the judge is not hanging
                    self._failing_since = None
                    raise
                if self._stop.is_set() and not self._open:  # cut by ask_all (Ctrl-C): not the judge's fault
                    raise
                if not self._open:  # open already (another thread's failure): not counted again
                    self._failures += 1
                    self._last_failure = exc.reason
                    if not (self._hung or self._failures >= max(1, self.max_consecutive_failures)):
                        raise
                    self._open = True
                self._halt()
                unavailable = self._unavailable()
            raise unavailable from None
        finally:
            with self._lock:
                del self._pending[key]
            done.set()

    def ask_all(
        self, fn: Callable[[T], R], items: Sequence[T], *, desc: str | None = None, unit: str = "sample",
        enabled: bool = True,
    ) -> list[R]:  # fmt: skip
        """`[fn(item) for item in items]`, up to `concurrency` calls at once (each may `ask`).
        The first exception (in the items' order) is raised once the calls under way have
        ended; those not yet started are dropped. On an exception (a JudgeUnavailable, Ctrl-C)
        the requests under way are cut and none is retried, so a dead judge ends this within
        seconds. With `desc`, a progress bar (or plain lines: `enabled` False, or no terminal)
        counts the items as they end, so minutes of judging are not minutes of silence; it is
        updated from this thread only, and changes no result and no order."""
        with _bar(len(items), desc, unit, enabled) as bar:
            if self.concurrency <= 1 or len(items) <= 1:
                return _one_by_one(fn, items, bar)
            pool = ThreadPoolExecutor(max_workers=min(self.concurrency, len(items)), thread_name_prefix="llm-judge")
            futures = []
            try:
                futures = [pool.submit(fn, item) for item in items]
                running = set(futures)
                while running:  # FIRST_COMPLETED, not FIRST_EXCEPTION: the bar moves as each ends
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    bar.update(len(done))
                    if any(f.exception() is not None for f in done):
                        with self._lock:
                            self._halt()  # the calls under way stop: their results are dropped
                        break
            except BaseException:  # Ctrl-C: the same
                with self._lock:
                    self._halt()
                raise
            finally:  # nothing new starts; the calls under way end (at once when halted)
                pool.shutdown(wait=True, cancel_futures=True)
                with self._lock:
                    if not self.unavailable:
                        self._stop.clear()
            for future in futures:
                error = None if future.cancelled() else future.exception()
                if error is not None:
                    raise error
            return [future.result() for future in futures]

    @property
    def unavailable(self) -> bool:
        """True once `max_consecutive_failures` requests in a row have failed, or the judge gave
        no reply for `max_wait` seconds (the breaker is open: it stays open)."""
        return self._open

    def _unavailable(self) -> JudgeUnavailable:
        return JudgeUnavailable(
            f"LLM judge {self.model} at {self.base_url} failed {self._failures} requests in a row "
            f"(last: {self._last_failure}); start the server or fix --judge-base-url / "
            "--judge-model / the API key, then rerun: the answered samples are kept in the run folder"
        )

    # --- transport ------------------------------------------------------
    def _request(self, prompt: str, *, temperature: float, max_tokens: int | None) -> str:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": temperature,
        }
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        data = json.dumps(body).encode("utf-8")
        last = "no attempt"
        max_wait = self.max_wait if self.max_wait is not None else 5 * self.timeout
        for attempt in range(self.max_retries + 1):
            left = max_wait - self._failing_for()
            if left <= 0:
                with self._lock:
                    self._hung = True
                last = f"no reply for {max_wait:g}s; last: {last}"
                break
            if attempt and self._stop.is_set():  # the judge is unavailable: retry no more
                break
            started = time.monotonic()
            try:
                return self._post_once(data, timeout=min(self.timeout, left))
            except _NoAnswer as exc:
                raise JudgeError(f"LLM judge {self.model} at {self.base_url}: {exc}", reason=str(exc)) from None
            except _Retryable as exc:
                with self._lock:
                    if self._failing_since is None:
                        self._failing_since = started
                last = str(exc)
                if attempt == self.max_retries:
                    break
                wait = min(self.max_backoff, self.backoff * (2**attempt))
                if exc.retry_after is not None:
                    wait = min(self.max_backoff, max(wait, exc.retry_after))
                self._pause(max(0.0, min(wait, max_wait - self._failing_for())))
        raise JudgeError(
            f"LLM judge {self.model} at {self.base_url} gave no usable reply after "
            f"{self.max_retries + 1} tries (last: {last})",
            reason=last,
        )

    def _halt(self) -> None:
        """Stop the asks under way (under `_lock`): no more retries, and their requests cut."""
        self._stop.set()
        for deadline in self._live:
            deadline.expire()

    def _track(self, deadline: _Deadline, live: bool) -> None:
        """A request starts (`live`) or ends; one that starts after a halt is cut at once."""
        with self._lock:
            if not live:
                self._live.discard(deadline)
                return
            self._live.add(deadline)
            if self._stop.is_set():
                deadline.expire()

    def _pause(self, seconds: float) -> None:
        """The backoff wait; it ends early once the judge is taken for unavailable."""
        self._stop.wait(seconds)

    def _failing_for(self) -> float:
        """Seconds since the first failed try after the last reply (0 while replies come)."""
        since = self._failing_since
        return 0.0 if since is None else time.monotonic() - since

    def _post_once(self, data: bytes, timeout: float | None = None) -> str:
        timeout = self.timeout if timeout is None else timeout
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(
            f"{self.base_url}/chat/completions", data=data, headers=headers, method="POST"
        )
        with self._lock:
            self.requests_sent += 1
        try:
            raw = _post(req, timeout, self._track)
        except urllib.error.HTTPError as exc:
            status = exc.code
            retry_after = _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            exc.close()
            if status == 429 or 500 <= status < 600:
                raise _Retryable(f"HTTP {status}", retry_after) from None
            hint = " (is the API key variable set?)" if status in (401, 403) else ""
            raise JudgeError(
                f"LLM judge {self.model} at {self.base_url}: HTTP {status}{hint}",
                reason=f"HTTP {status}{hint}",
                systemic=status in _CONFIG_STATUSES,
            ) from None
        except TimeoutError:
            raise _Retryable(f"timed out after {timeout:g}s") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise _Retryable(f"timed out after {timeout:g}s") from None
            if _cannot_connect(reason):
                raise _NoAnswer(f"cannot connect ({type(reason).__name__})") from None
            raise _Retryable(f"cannot connect ({type(reason).__name__})") from None
        except (ConnectionError, OSError) as exc:
            if _cannot_connect(exc):
                raise _NoAnswer(f"cannot connect ({type(exc).__name__})") from None
            raise _Retryable(f"connection failed ({type(exc).__name__})") from None
        except http.client.HTTPException as exc:  # dropped mid-reply (IncompleteRead), not HTTP (BadStatusLine)
            raise _Retryable(f"broken reply ({type(exc).__name__})") from None
        return _reply_text(raw)


class _Deadline:
    """Cuts a request's connection when its time is up. A socket timeout bounds each read, not
    the reply: a server that trickles its reply a byte at a time, each within the timeout, could
    hold a request for hours. At the deadline a timer shuts the socket down, which ends a read
    blocked on it at once; the request then counts as timed out."""

    def __init__(self, seconds: float):
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _cut(sock)

    def expire(self) -> None:
        """Cut the connection now (the deadline, or the judge stopped)."""
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _cut(sock)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def _cut(sock: socket.socket) -> None:
    try:  # the plain socket's shutdown, also under TLS: a blocked read sees the end of the stream
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # closed already


class _WatchedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, deadline: _Deadline, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:  # the connect itself is bounded by the socket timeout
        super().connect()
        self._deadline.watch(self.sock)


class _WatchedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, deadline: _Deadline, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        super().connect()
        self._deadline.watch(self.sock)


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline):
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        def connection(host: str, /, **kwargs: Any) -> http.client.HTTPConnection:
            return _WatchedHTTPConnection(host, deadline=self.deadline, **kwargs)

        return self.do_open(connection, req)


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline):
        super().__init__()
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        def connection(host: str, /, **kwargs: Any) -> http.client.HTTPConnection:
            return _WatchedHTTPSConnection(host, deadline=self.deadline, **kwargs)

        return self.do_open(connection, req)


def _post(
    req: urllib.request.Request, timeout: float, track: Callable[[_Deadline, bool], None] | None = None
) -> bytes:
    """Send `req` and read its whole reply within `timeout` seconds (connection, headers and
    body; urllib's own timeout bounds each read only). Cut off: TimeoutError. An HTTP error
    status is raised as urllib's HTTPError. `track(deadline, True/False)` is told when the
    request starts and ends, so its judge can cut it early."""
    with _Deadline(timeout) as deadline:
        if track is not None:
            track(deadline, True)
        opener = urllib.request.build_opener(_WatchedHTTPHandler(deadline), _WatchedHTTPSHandler(deadline))
        try:
            with opener.open(req, timeout=timeout) as resp:
                raw: bytes = resp.read()
        except urllib.error.HTTPError:
            raise  # its status came whole
        except Exception:
            if deadline.expired:
                raise TimeoutError(f"no whole reply within {timeout:g}s") from None
            raise
        finally:
            if track is not None:
                track(deadline, False)
        if deadline.expired:  # a reply without a length, cut short
            raise TimeoutError(f"no whole reply within {timeout:g}s")
    return raw


def ask_all(
    judge: Any, fn: Callable[[T], R], items: Sequence[T], *, desc: str | None = None, unit: str = "sample",
    enabled: bool = True,
) -> list[R]:  # fmt: skip
    """`judge.ask_all(fn, items)` where the judge has it; any other judge (a test's stand-in,
    which need not be thread-safe) is asked one item after another. `desc`, `unit`, `enabled`:
    the progress bar, as in `LLMJudge.ask_all`."""
    if isinstance(judge, LLMJudge):
        return judge.ask_all(fn, items, desc=desc, unit=unit, enabled=enabled)
    with _bar(len(items), desc, unit, enabled) as bar:
        return _one_by_one(fn, items, bar)


class _NoBar:
    """No progress to show (no `desc` given): `update` does nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _bar(total: int, desc: str | None, unit: str, enabled: bool) -> Any:
    """The judging bar, or none where the caller gave no label."""
    return _NoBar() if desc is None else progress(total, desc, unit, enabled=enabled)


def _one_by_one(fn: Callable[[T], R], items: Sequence[T], bar: Any) -> list[R]:
    results = []
    for item in items:
        results.append(fn(item))
        bar.update(1)
    return results


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _reply_text(raw: bytes) -> str:
    """The first choice's message content of a chat-completions body. Anything else says the
    URL is not a chat-completions server: not retried."""
    try:
        body = json.loads(raw.decode("utf-8"))
        content = body["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError):
        raise _NoAnswer("the reply is not a chat completion") from None
    if not isinstance(content, str):
        raise _NoAnswer("the reply has no text content")
    return content
