"""A simulated system's webhook endpoint for the training data TrainQuant sends out: it checks each
delivery's signature and timestamp, keeps the first of each delivery id and answers repeats 200
without keeping them again (what a receiver of at-least-once deliveries does), and can be made to
fail (503) or be stopped and started again on the same port."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

WINDOW_S = 300


@dataclass
class Inbox:
    secret: str | None = None
    failing: bool = False  # answer every delivery 503
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)  # delivery id -> the body, the first time
    posts: int = 0
    repeats: int = 0
    refused: int = 0  # bad signature or timestamp
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    def take(self, timestamp: str | None, signature: str | None, delivery: str | None, body: bytes) -> tuple[int, dict]:
        """A delivery as a receiver answers it: (HTTP status, body)."""
        with self.lock:
            self.posts += 1
            if self.failing:
                return 503, {"error": "down for maintenance"}
            if not _verify(self.secret or "", timestamp, signature, body):
                self.refused += 1
                return 401, {"error": "bad signature"}
            if (delivery or "") in self.kept:
                self.repeats += 1
            else:
                self.kept[delivery or ""] = json.loads(body)
                self.arrived.notify_all()
        return 200, {"ok": True}

    def summary(self) -> dict:
        with self.lock:
            kinds: dict[str, int] = {}
            for body in self.kept.values():
                kinds[str(body.get("event"))] = kinds.get(str(body.get("event")), 0) + 1
            return {"received": len(self.kept), "repeats": self.repeats, "refused": self.refused, "events": kinds}

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Until ``count`` distinct deliveries have been kept."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.kept) >= count, timeout)


def _verify(secret: str, timestamp: str | None, signature: str | None, body: bytes) -> bool:
    if not secret or not timestamp or not signature or not timestamp.isdigit() or abs(time.time() - int(timestamp)) > WINDOW_S:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        h = self.headers
        self._answer(*self.server.inbox.take(h.get("X-TQ-Timestamp"), h.get("X-TQ-Signature"), h.get("X-TQ-Delivery"), body))

    def _answer(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], inbox: Inbox) -> None:
        super().__init__(address, _Handler)
        self.inbox = inbox


class Receiver:
    """Serves from a thread; ``stop`` and ``start`` again keep the port and what was kept."""

    def __init__(self, inbox: Inbox | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.inbox = inbox or Inbox()
        self._host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}/webhooks/trainquant"

    def start(self) -> None:
        self._server = _Server((self._host, self._port), self.inbox)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join()
            self._server = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
