"""core/download.fetch against a real local HTTP server that speaks Range: verified, sent
once, resumed after a cut, restarted when Range is ignored, refused on a wrong hash, and one
clear line offline."""

from __future__ import annotations

import hashlib
import http.server
import os
import re
import threading

import pytest

from janus_eval.core.download import Pin, fetch, part_path
from janus_eval.core.errors import UsageError

PAYLOAD = os.urandom(3 * (1 << 20) + 12345)  # a few MB, not a multiple of the chunk size
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class RangeServer:
    """Serves PAYLOAD at /file.bin; honours `Range: bytes=N-` (206) unless `ignore_range`;
    closes the connection after `cut_after` bytes on the first request when set. Counts
    requests, Range headers seen and body bytes sent."""

    def __init__(self, payload: bytes = PAYLOAD, *, ignore_range: bool = False, cut_after: int | None = None):
        self.payload, self.ignore_range, self.cut_after = payload, ignore_range, cut_after
        self.requests = 0
        self.ranges: list[str | None] = []
        self.sent = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                outer.requests += 1
                rng = self.headers.get("Range")
                outer.ranges.append(rng)
                body, start = outer.payload, 0
                m = re.fullmatch(r"bytes=(\d+)-", rng or "")
                if m and not outer.ignore_range:
                    start = int(m.group(1))
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("Connection", "close")
                self.end_headers()
                chunk = body[start:]
                if outer.cut_after is not None and outer.requests == 1:
                    chunk = chunk[: outer.cut_after]  # then the connection closes: a cut download
                self.wfile.write(chunk)
                self.wfile.flush()
                outer.sent += len(chunk)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/file.bin"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def __enter__(self) -> RangeServer:
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_fresh_download_is_verified_and_lands_and_a_second_call_sends_nothing(tmp_path, capsys):
    dest = tmp_path / "sub" / "file.bin"
    with RangeServer() as server:
        assert fetch(server.url, dest, SHA, what="the test file") == dest
        assert dest.read_bytes() == PAYLOAD
        assert (server.requests, server.ranges, server.sent) == (1, [None], len(PAYLOAD))
        assert fetch(server.url, dest, SHA) == dest
        assert server.requests == 1  # already there and matching: no request at all
    assert sorted(p.name for p in dest.parent.iterdir()) == ["file.bin"]  # no part, no pooch temp file
    err = capsys.readouterr().err  # not a terminal: plain lines, not a bar
    assert f"downloading the test file (3.2 MB) from {server.url} to {dest}" in err and "\r" not in err


def test_a_cut_download_resumes_with_a_range_request_and_only_the_rest_is_sent(tmp_path):
    dest = tmp_path / "file.bin"
    k = 1_000_000
    with RangeServer(cut_after=k) as server:
        fetch(server.url, dest, SHA)
    assert dest.read_bytes() == PAYLOAD and not part_path(dest).exists()
    assert server.ranges == [None, f"bytes={k}-"]
    assert server.sent == len(PAYLOAD)  # k bytes, then only the remaining ones


def test_a_part_left_by_a_killed_run_is_continued(tmp_path):
    dest = tmp_path / "file.bin"
    part_path(dest).write_bytes(PAYLOAD[:777_777])  # what a killed process leaves behind
    with RangeServer() as server:
        fetch(server.url, dest, SHA)
    assert dest.read_bytes() == PAYLOAD
    assert server.ranges == ["bytes=777777-"] and server.sent == len(PAYLOAD) - 777_777


def test_a_server_ignoring_range_restarts_the_part_cleanly(tmp_path):
    dest = tmp_path / "file.bin"
    part_path(dest).write_bytes(PAYLOAD[:500_000])
    with RangeServer(ignore_range=True) as server:
        fetch(server.url, dest, SHA)
    assert dest.read_bytes() == PAYLOAD  # the 200 body replaced the part, not appended to it
    assert server.requests == 1 and server.sent == len(PAYLOAD)


def test_a_hash_mismatch_is_one_line_and_leaves_no_file(tmp_path):
    dest = tmp_path / "file.bin"
    wrong = "0" * 64
    with RangeServer() as server, pytest.raises(UsageError) as err:
        fetch(server.url, dest, wrong, what="the test file")
    msg = str(err.value)
    assert "\n" not in msg and server.url in msg and wrong in msg and SHA in msg and str(dest) in msg
    assert list(tmp_path.iterdir()) == []  # no dest, no part, no temporary file


def test_a_pinned_prefix_is_checked_as_upstream_file_names_carry_it(tmp_path):
    dest = tmp_path / "file.bin"
    with RangeServer() as server:
        fetch(server.url, dest, SHA[:8])
        with pytest.raises(UsageError, match=f"expected sha256 prefix 00000000, got {SHA[:8]}"):
            fetch(server.url, tmp_path / "other.bin", "00000000")
    assert dest.read_bytes() == PAYLOAD and not (tmp_path / "other.bin").exists()


def test_a_git_blob_pin_and_a_changed_cached_file_is_downloaded_again(tmp_path):
    blob = hashlib.sha1(b"blob %d\0" % len(PAYLOAD) + PAYLOAD).hexdigest()
    dest = tmp_path / "file.bin"
    dest.write_bytes(b"edited by hand")
    with RangeServer() as server:
        fetch(server.url, dest, git_blob=blob)
    assert dest.read_bytes() == PAYLOAD and server.requests == 1


def test_offline_is_one_line_naming_where_the_file_goes(tmp_path):
    with RangeServer() as server:
        url = server.url
    dest = tmp_path / "file.bin"  # nothing listens at url any more: connection refused
    with pytest.raises(UsageError) as err:
        fetch(url, dest, SHA, what="the test file", hint="or pass --file PATH")
    msg = str(err.value)
    assert "\n" not in msg and f"put the file at {dest}" in msg and url in msg and msg.endswith("--file PATH")
    assert list(tmp_path.iterdir()) == []


def test_a_pin_must_be_a_hex_digest():
    with pytest.raises(ValueError):
        Pin("abc")  # shorter than the 8 hex digits upstream names carry
    with pytest.raises(ValueError):
        Pin()
    assert Pin(SHA).full_sha256 == f"sha256:{SHA}" and Pin(SHA[:8]).full_sha256 is None
