"""One simulated business system over real HTTP, standard library only: records served at ``GET /api/v1/<collection>``
behind one auth style and one pagination style, with a failure plan (429, 503, slow answers, a crash) that fires
on counted data requests, so a test knows exactly which request fails."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from trainquant.simulate.systems.paging import BadRequest, Catalogue
from trainquant.simulate.systems.receiver import Inbox

AUTH_STYLES = ("bearer", "basic", "api_key", "oauth2")
PAGINATION_STYLES = ("page", "offset", "cursor", "link")
CRASH_EXIT_CODE = 17
WEBHOOK_PATH = "/webhooks/trainquant"
_CREDENTIALS = {"bearer": ("token",), "basic": ("username", "password"), "api_key": ("api_key", "api_key_header"), "oauth2": ("client_id", "client_secret")}


@dataclass(frozen=True)
class SystemConfig:
    name: str
    collection: str
    items: list[dict[str, Any]]
    auth: str = "bearer"
    token: str = ""
    username: str = ""
    password: str = ""
    api_key: str = ""
    api_key_header: str = "X-Api-Key"
    client_id: str = ""
    client_secret: str = ""
    token_ttl_s: int = 3600
    pagination: str = "page"
    page_size: int = 100
    max_page_size: int = 1000
    rate_limit_every: int | None = None
    retry_after_s: int = 1
    error_every: int | None = None
    slow_every: int | None = None
    slow_s: float = 0.0
    crash_after_pages: int | None = None
    # Served from a thread of the test's process: data request number ``hold_request`` waits, before
    # it is answered, until the test releases it (``RunningSystem.held`` / ``release``), so a test can
    # act while a client is known to be mid-sync.
    hold_request: int | None = None
    # The system takes TrainQuant's training data at POST /webhooks/trainquant, signed with this secret
    # (the subscription's); empty: it takes none. GET on the same path says what it has taken.
    webhook_secret: str = ""

    def __post_init__(self) -> None:
        if self.auth not in AUTH_STYLES or self.pagination not in PAGINATION_STYLES:
            raise ValueError(f"{self.name}: auth must be one of {AUTH_STYLES}, pagination one of {PAGINATION_STYLES}")
        missing = [name for name in _CREDENTIALS[self.auth] if not getattr(self, name)]
        if missing:  # a server that accepted an empty secret would pass a connector that sends none
            raise ValueError(f"{self.name}: auth {self.auth!r} needs {', '.join(missing)}")
        periods = [period for period in (self.rate_limit_every, self.error_every, self.slow_every) if period is not None]
        in_range = min(self.page_size, self.token_ttl_s, *periods) >= 1 and self.page_size <= self.max_page_size \
            and min(self.retry_after_s, self.slow_s, self.crash_after_pages or 0) >= 0
        if not self.collection or "/" in self.collection or not in_range:
            raise ValueError(f"{self.name}: collection is one path segment, 1 <= page_size <= max_page_size, the periods and token_ttl_s >= 1, "
                             "retry_after_s, slow_s and crash_after_pages >= 0")
        Catalogue(self.items)  # rejects items without a str id or a zoned updated_at, and repeated ids

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SystemConfig:
        unknown = sorted(set(data) - {field.name for field in fields(cls)})
        if unknown:  # a misspelt failure-plan field would otherwise be a plan that silently never fires
            raise ValueError(f"unknown config fields: {', '.join(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class StatsSnapshot:
    data_requests: int  # authenticated requests to the collection, whatever their answer
    pages_served: int  # 200 answers with a page
    rate_limited: int  # 429 answers
    unavailable: int  # 503 answers
    slowed: int  # requests held for slow_s
    tokens_issued: int
    served_per_item: dict[str, int]  # item id -> times it was in a 200 page


class _State:
    """What the handler threads share; the counters and the token table change under one lock."""

    def __init__(self, config: SystemConfig, *, exit_on_crash: bool) -> None:
        self.config, self.catalogue, self.exit_on_crash = config, Catalogue(config.items), exit_on_crash
        self.crashed = threading.Event()
        self.held, self.released = threading.Event(), threading.Event()
        self._lock = threading.Lock()
        self._tokens: dict[bytes, float] = {}  # sha256 of a token -> monotonic expiry
        self._counts = dict.fromkeys(("data_requests", "pages_served", "rate_limited", "unavailable", "slowed", "tokens_issued"), 0)
        self._served: dict[str, int] = {}
        self.inbox = Inbox(secret=config.webhook_secret or None)

    def begin_data_request(self) -> tuple[int, int]:
        """This request's number and the pages served before it."""
        with self._lock:
            self._counts["data_requests"] += 1
            return self._counts["data_requests"], self._counts["pages_served"]

    def count(self, name: str, items: Sequence[dict[str, Any]] = ()) -> None:
        with self._lock:
            self._counts[name] += 1
            for item in items:
                self._served[item["id"]] = self._served.get(item["id"], 0) + 1

    def snapshot(self) -> StatsSnapshot:
        with self._lock:
            return StatsSnapshot(**self._counts, served_per_item=dict(self._served))

    def issue_token(self) -> str:
        token, now = secrets.token_urlsafe(32), time.monotonic()
        with self._lock:
            self._tokens = {key: expiry for key, expiry in self._tokens.items() if expiry > now}
            self._tokens[_digest(token)] = now + self.config.token_ttl_s
            self._counts["tokens_issued"] += 1
        return token

    def token_refusal(self, token: str) -> str | None:
        # Looked up by digest: the lookup's timing then depends on a hash, never on how much of a guess matched.
        with self._lock:
            expiry = self._tokens.get(_digest(token))
        if expiry is None:
            return "unknown access token"
        return "access token expired" if expiry <= time.monotonic() else None

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, float("-inf"))


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _same(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode(), expected.encode())


def _basic_pair(authorization: str | None) -> tuple[str, str] | None:
    scheme, _, credentials = (authorization or "").partition(" ")
    try:
        user, colon, password = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if colon and scheme.lower() == "basic" else None


def _every(period: int | None, number: int) -> bool:
    return period is not None and number % period == 0


def _single_params(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in params:  # which copy wins differs between real servers; a connector must not send two
            raise BadRequest(f"{name} is given more than once")
        params[name] = value
    return params


class SystemServer(ThreadingHTTPServer):
    request_queue_size = 64  # the demo's connectors open several connections at once

    def __init__(self, address: tuple[str, int], config: SystemConfig, *, exit_on_crash: bool) -> None:
        self.state = _State(config, exit_on_crash=exit_on_crash)
        self._close_lock, self._closed = threading.Lock(), False
        super().__init__(address, _Handler)

    def close(self) -> None:
        """Stop serving and release the port; idempotent, since a crash and ``stop()`` may both call it."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self.shutdown()
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a slow answer has closed its end: that is the scenario, not a server fault.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a pooled client expects
    server_version = "SimulatedSystem/1"
    timeout = 60  # an idle keep-alive connection gives its thread back
    disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle plus delayed ACK would add 40 ms to each answer
    server: SystemServer

    def log_message(self, format: str, *args: Any) -> None:  # a line per request would drown test and demo output
        pass

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        config = self.server.state.config
        if self.server.state.crashed.is_set():  # a keep-alive connection must not outlive the "dead" server
            self._drop()
            return
        length = self.headers.get("Content-Length") or "0"
        if not (length.isascii() and length.isdigit() and int(length) <= 65536):
            self._json(400, {"error": "bad Content-Length"}, {"Connection": "close"})
            return
        body = self.rfile.read(int(length))  # read even when unused, or the connection's next request is garbled
        url = urlsplit(self.path)
        routes: dict[str, tuple[str, ...]] = {"/health": ("GET",), f"/api/v1/{config.collection}": ("GET",)}
        if config.auth == "oauth2":
            routes["/oauth/token"] = ("POST",)
        if config.webhook_secret:
            routes[WEBHOOK_PATH] = ("GET", "POST")  # POST a delivery; GET what has been taken
        if url.path not in routes:
            self._json(404, {"error": f"no such path: {url.path}"})
        elif method not in routes[url.path]:
            self._json(405, {"error": f"{method} is not allowed on {url.path}"}, {"Allow": ", ".join(routes[url.path])})
        elif url.path == "/health":
            self._json(200, {"ok": True})
        elif url.path == "/oauth/token":
            self._token(body)
        elif url.path == WEBHOOK_PATH:
            inbox = self.server.state.inbox
            if method == "GET":
                self._json(200, inbox.summary())
            else:
                h = self.headers
                self._json(*inbox.take(h.get("X-TQ-Timestamp"), h.get("X-TQ-Signature"), h.get("X-TQ-Delivery"), body))
        else:
            self._data(url.path, url.query)

    def _data(self, path: str, query: str) -> None:
        state, config = self.server.state, self.server.state.config
        refusal = self._refusal()
        if refusal is not None:
            self._json(401, {"error": refusal[0]}, {"WWW-Authenticate": refusal[1]})
            return
        number, pages_served = state.begin_data_request()
        if number == config.hold_request:
            state.held.set()
            state.released.wait(60)
        if config.crash_after_pages is not None and pages_served >= config.crash_after_pages:
            self._crash()
        elif _every(config.rate_limit_every, number):
            state.count("rate_limited")
            self._problem(429, "Too Many Requests", f"request {number} is over the rate limit", {"Retry-After": str(config.retry_after_s)})
        elif _every(config.error_every, number):
            state.count("unavailable")
            self._problem(503, "Service Unavailable", f"request {number} hit a planned outage")
        else:
            if _every(config.slow_every, number):
                state.count("slowed")
                time.sleep(config.slow_s)
            try:
                host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
                body, headers, items = state.catalogue.page(config, _single_params(query), f"http://{host}{path}")
            except BadRequest as exc:
                self._json(400, {"error": str(exc)})
                return
            state.count("pages_served", items)
            self._json(200, body, headers)

    def _refusal(self) -> tuple[str, str] | None:
        """Why the credentials are refused and the WWW-Authenticate challenge; None when they are accepted."""
        config = self.server.state.config
        realm = f'realm="{config.name}"'
        if config.auth == "api_key":
            key, challenge = self.headers.get(config.api_key_header), f'ApiKey {realm}, header="{config.api_key_header}"'
            if key is None or not _same(key, config.api_key):
                return ("invalid API key" if key else f"missing {config.api_key_header} header"), challenge
            return None
        authorization = self.headers.get("Authorization")
        if config.auth == "basic":
            pair = _basic_pair(authorization)
            # Both halves compared every time (& rather than and), so a right username is not slower to refuse.
            if pair is None or not (_same(pair[0], config.username) & _same(pair[1], config.password)):
                return ("invalid username or password" if authorization else "missing basic credentials"), f'Basic {realm}, charset="UTF-8"'
            return None
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "missing bearer token", f"Bearer {realm}"  # RFC 6750 section 3.1: no error code without a token
        if config.auth == "bearer":
            reason = None if _same(token.strip(), config.token) else "invalid token"
        else:
            reason = self.server.state.token_refusal(token.strip())
        return None if reason is None else (reason, f'Bearer {realm}, error="invalid_token", error_description="{reason}"')

    def _token(self, body: bytes) -> None:
        state, config = self.server.state, self.server.state.config
        no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 section 5.1
        if not (self.headers.get("Content-Type") or "").lower().startswith("application/x-www-form-urlencoded"):
            self._json(400, {"error": "invalid_request", "error_description": "the body must be form-encoded"}, no_store)
            return
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, client_secret = _basic_pair(self.headers.get("Authorization")) or (form.get("client_id", ""), form.get("client_secret", ""))
        if not (_same(client_id, config.client_id) & _same(client_secret, config.client_secret)):
            self._json(401, {"error": "invalid_client"}, {"WWW-Authenticate": f'Basic realm="{config.name}"'} | no_store)
        elif "grant_type" not in form:
            self._json(400, {"error": "invalid_request", "error_description": "grant_type is missing"}, no_store)
        elif form["grant_type"] != "client_credentials":
            self._json(400, {"error": "unsupported_grant_type"}, no_store)
        else:
            self._json(200, {"access_token": state.issue_token(), "token_type": "Bearer", "expires_in": config.token_ttl_s}, no_store)

    def _crash(self) -> None:
        state = self.server.state
        if state.exit_on_crash:
            os._exit(CRASH_EXIT_CODE)  # no answer, no cleanup: what a killed or segfaulted system looks like
        state.crashed.set()
        self._drop()
        # close() waits for serve_forever to return, which a handler thread must not do itself.
        threading.Thread(target=self.server.close, name=f"{state.config.name}-crash", daemon=True).start()

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _problem(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        self._json(status, body, headers, content_type="application/problem+json")

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None, *, content_type: str = "application/json") -> None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)  # send_header notes "Connection: close" and ends the connection after
        self.end_headers()
        self.wfile.write(payload)
