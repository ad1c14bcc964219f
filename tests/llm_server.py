"""A real OpenAI-compatible chat server on 127.0.0.1 for the judge tests.

`ChatServer(policy)` serves `POST /v1/chat/completions` from a thread; `policy`
gets the request body (and the request's number) and returns what to do:
`("reply", text)`, `("status", code)` / `("status", code, {header: value})`,
`("sleep", seconds, text)` (answer late: a client with a shorter timeout gives
up), or `("raw", bytes)` (a 200 whose body is not a chat completion). Every
request is recorded (path, headers, body).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Policy = Callable[[dict[str, Any], int], tuple]


def completion(text: str, model: str = "judge") -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
        }  # fmt: skip
    ).encode()


class ChatServer:
    def __init__(self, policy: Policy):
        self.policy = policy
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                with server._lock:
                    n = len(server.requests)
                    server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path != "/v1/chat/completions":
                    return self._send(404, b"{}")
                action = server.policy(body, n)
                kind = action[0]
                try:
                    if kind == "reply":
                        self._send(200, completion(action[1], body.get("model", "judge")))
                    elif kind == "status":
                        self._send(action[1], b'{"error": "test"}', action[2] if len(action) > 2 else None)
                    elif kind == "sleep":
                        time.sleep(action[1])
                        self._send(200, completion(action[2]))
                    elif kind == "raw":
                        self._send(200, action[1])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def _send(self, code: int, payload: bytes, headers: dict | None = None):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def prompts(self) -> list[str]:
        return [r["body"]["messages"][0]["content"] for r in self.requests]

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def mmvet_grader(body: dict[str, Any], n: int) -> tuple:
    """Grades an MM-Vet prompt from its last table row: 1.0 when every <AND> part (or
    any <OR> part) of the ground truth is in the prediction, else 0.0. A prediction
    holding GARBAGE gets an unreadable reply every time."""
    prompt = body["messages"][0]["content"]
    row = prompt.rsplit("characteristics. | 1.0\n", 1)[-1].split("\nPredict the correctness")[0]
    cells = row.split(" | ")
    gold, pred = cells[1].lower(), " | ".join(cells[2:]).lower()
    if "garbage" in pred:
        return ("reply", "The prediction is partly right")
    if "<or>" in gold:
        ok = any(p.strip() in pred for p in gold.split("<or>"))
    else:
        ok = all(p.strip() in pred for p in gold.split("<and>"))
    return ("reply", "1.0" if ok else "0.0")
