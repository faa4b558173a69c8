"""A real local HTTP server for connector and webhook tests.

Routes answer from a script: a list of :class:`Reply` consumed in order (the last one repeats),
or a callable taking the :class:`Request`.  Every request is recorded (method, path, query,
headers, body), so tests assert on what was really sent over the wire.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    def encoded(self) -> bytes:
        return self.body.encode() if isinstance(self.body, str) else self.body


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class LocalHTTPServer:
    """``with LocalHTTPServer() as srv: srv.route("/x", [Reply(500), Reply(200, "ok")])``."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply] | Callable[[Request], Reply]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = (
                True  # headers and body in one packet: no 40 ms delayed-ACK stall
            )

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with outer._lock:
                    outer.requests.append(req)
                    script = outer.routes.get(parts.path)
                    if script is None:
                        reply = Reply(
                            404, b'{"error": "no such route"}', {"Content-Type": "application/json"}
                        )
                    elif callable(script):
                        reply = None
                    else:
                        reply = script.pop(0) if len(script) > 1 else script[0]
                if reply is None:
                    reply = script(req)  # type: ignore[operator]
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                data = reply.encoded()
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, replies: list[Reply] | Reply | Callable[[Request], Reply]) -> None:
        with self._lock:
            self.routes[path] = [replies] if isinstance(replies, Reply) else replies

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def __enter__(self) -> LocalHTTPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
