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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from janus_eval.core.errors import UsageError
from janus_eval.core.paths import cache_root

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"


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
    requests_sent: int = field(default=0, init=False)  # HTTP requests actually made (tests, logs)
    _failures: int = field(default=0, init=False, repr=False)  # failed requests in a row
    _last_failure: str = field(default="", init=False, repr=False)
    _failing_since: float | None = field(default=None, init=False, repr=False)  # start of the first failed try
    _hung: bool = field(default=False, init=False, repr=False)  # no reply for max_wait seconds
    _cache: JudgeCache | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("the LLM judge needs a model name (--judge-model)")
        self.base_url = self.base_url.rstrip("/")
        self.cache_path = Path(self.cache_path) if self.cache_path else default_cache_path()

    @property
    def cache(self) -> JudgeCache:
        if self._cache is None:
            self._cache = JudgeCache(Path(self.cache_path or default_cache_path()))
        return self._cache

    def describe(self) -> dict[str, Any]:
        """What the manifest records (no key, only the name of its variable)."""
        return {"model": self.model, "base_url": self.base_url, "api_key_env": self.api_key_env}

    def cache_key(self, prompt: str, *, temperature: float, max_tokens: int | None, sample: int) -> str:
        blob = json.dumps([self.model, prompt, temperature, max_tokens, sample], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def ask(
        self, prompt: str, *, temperature: float = 0.0, max_tokens: int | None = None, sample: int = 0
    ) -> str:
        """The judge's reply to `prompt`. `sample` tells repeated runs of one prompt
        apart (MM-Vet's judge runs): each is its own request and its own cache entry."""
        key = self.cache_key(prompt, temperature=temperature, max_tokens=max_tokens, sample=sample)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        if self.unavailable:
            raise self._unavailable()
        try:
            reply = self._request(prompt, temperature=temperature, max_tokens=max_tokens)
        except JudgeError as exc:
            if not exc.systemic:  # an answer (HTTP 400 to this prompt): the judge is not hanging
                self._failing_since = None
            if exc.systemic:
                self._failures += 1
                self._last_failure = exc.reason
                if self.unavailable:
                    raise self._unavailable() from None
            raise
        self._failures = 0
        self._failing_since = None
        self.cache.put(key, self.model, prompt, reply)
        return reply

    @property
    def unavailable(self) -> bool:
        """True once `max_consecutive_failures` requests in a row have failed."""
        return self._hung or self._failures >= max(1, self.max_consecutive_failures)

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
                self._hung = True
                last = f"no reply for {max_wait:g}s; last: {last}"
                break
            started = time.monotonic()
            try:
                return self._post_once(data, timeout=min(self.timeout, left))
            except _NoAnswer as exc:
                raise JudgeError(f"LLM judge {self.model} at {self.base_url}: {exc}", reason=str(exc)) from None
            except _Retryable as exc:
                if self._failing_since is None:
                    self._failing_since = started
                last = str(exc)
                if attempt == self.max_retries:
                    break
                wait = min(self.max_backoff, self.backoff * (2**attempt))
                if exc.retry_after is not None:
                    wait = min(self.max_backoff, max(wait, exc.retry_after))
                time.sleep(max(0.0, min(wait, max_wait - self._failing_for())))
        raise JudgeError(
            f"LLM judge {self.model} at {self.base_url} gave no usable reply after "
            f"{self.max_retries + 1} tries (last: {last})",
            reason=last,
        )

    def _failing_for(self) -> float:
        """Seconds since the first failed try after the last reply (0 while replies come)."""
        return 0.0 if self._failing_since is None else time.monotonic() - self._failing_since

    def _post_once(self, data: bytes, timeout: float | None = None) -> str:
        timeout = self.timeout if timeout is None else timeout
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(
            f"{self.base_url}/chat/completions", data=data, headers=headers, method="POST"
        )
        self.requests_sent += 1
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
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
