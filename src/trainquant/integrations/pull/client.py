"""Fetching one page from another system: its auth style, and what to do when it answers badly.

A 429 waits as long as ``Retry-After`` says (up to ``pull_max_wait_s``; a longer wait ends the run,
which resumes at its next start); a 5xx, a timeout or a dropped connection waits an exponential,
jittered backoff; either is tried again up to ``pull_retries`` times. Any other 4xx, a page that is
not JSON, or credentials the system refuses end the run at once: trying again would not change the
answer. OAuth2 client credentials: a token is fetched when there is none or it is about to expire,
and once more when the system answers 401 (it may have been revoked early).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from trainquant.integrations.pull import rules
from trainquant.integrations.pull.schemas import PullConfig

TOKEN_MARGIN_S = 30.0  # a token this close to its expiry is replaced before use


class FetchError(Exception):
    def __init__(self, code: str, message: str, retries: int = 0):
        super().__init__(message)
        self.code, self.retries = code, retries


@dataclass(frozen=True)
class Fetched:
    body: Any
    link: str | None
    retries: int


class SystemClient:
    def __init__(self, config: PullConfig, credentials: dict[str, str], *, retries: int, backoff_s: float, max_wait_s: float,
                 stop: threading.Event | None = None, transport: httpx.BaseTransport | None = None):
        self.config, self._credentials = config, credentials
        self.retries, self.backoff_s, self.max_wait_s = retries, backoff_s, max_wait_s
        self._stop = stop or threading.Event()
        self._http = httpx.Client(timeout=config.timeout_s, transport=transport, follow_redirects=False,
                                  headers={"Accept": "application/json", "User-Agent": "TrainQuant-pull/1"})
        self._token: tuple[str, float] | None = None  # (access token, monotonic expiry)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SystemClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ auth

    def _oauth_token(self, *, fresh: bool = False) -> str:
        if not fresh and self._token is not None and self._token[1] - time.monotonic() > TOKEN_MARGIN_S:
            return self._token[0]
        auth = self.config.auth
        assert auth.token_url is not None  # required for oauth2 by the schema
        form = {"grant_type": "client_credentials", **({"scope": auth.scope} if auth.scope else {})}
        try:
            r = self._http.post(auth.token_url, data=form, auth=(self._credentials["client_id"], self._credentials["client_secret"]))
        except httpx.HTTPError as exc:
            raise FetchError("token-unreachable", f"the token endpoint did not answer: {type(exc).__name__}") from None
        if r.status_code != 200:
            raise FetchError("token-refused", f"the token endpoint answered {r.status_code}")
        try:
            body = orjson.loads(r.content)
            token, ttl = str(body["access_token"]), float(body.get("expires_in", 3600))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise FetchError("token-unreadable", "the token endpoint's answer has no access_token") from None
        self._token = (token, time.monotonic() + ttl)
        return token

    def _auth(self, *, fresh_token: bool = False) -> tuple[dict[str, str], tuple[str, str] | None]:
        style = self.config.auth.style
        if style == "bearer":
            return {"Authorization": f"Bearer {self._credentials['token']}"}, None
        if style == "basic":
            return {}, (self._credentials["username"], self._credentials["password"])
        if style == "api_key":
            return {self.config.auth.api_key_header: self._credentials["api_key"]}, None
        return {"Authorization": f"Bearer {self._oauth_token(fresh=fresh_token)}"}, None

    # ------------------------------------------------------------ fetching

    def _wait(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise FetchError("stopped", "the run was stopped (the worker is shutting down)")

    def get(self, url: str) -> Fetched:
        retries, refreshed = 0, False
        while True:
            headers, basic = self._auth()
            try:
                r = self._http.get(url, headers=headers, auth=basic)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                problem, wait = f"{type(exc).__name__}", None
            else:
                if r.status_code == 200:
                    try:
                        body = orjson.loads(r.content)
                    except orjson.JSONDecodeError:
                        raise FetchError("not-json", f"{_short(url)} answered 200 with a body that is not JSON", retries) from None
                    return Fetched(body, rules.link_next(r.headers.get("link")), retries)
                if r.status_code == 401 and self.config.auth.style == "oauth2" and not refreshed:
                    refreshed = True
                    self._oauth_token(fresh=True)
                    continue
                if r.status_code in (401, 403):
                    raise FetchError("unauthorized", f"{_short(url)} refused the credentials ({r.status_code})", retries)
                if r.status_code != 429 and r.status_code < 500:
                    raise FetchError(f"http-{r.status_code}", f"{_short(url)} answered {r.status_code}: {r.text[:200]}", retries)
                problem = f"HTTP {r.status_code}"
                wait = rules.retry_after(r.headers.get("retry-after"), datetime.now(UTC)) if r.status_code == 429 else None
            if retries >= self.retries:
                raise FetchError("gave-up", f"{_short(url)}: {problem} after {retries} retries", retries)
            if wait is None:
                wait = rules.backoff(retries, base=self.backoff_s, cap=self.max_wait_s, jitter=random.random())
            elif wait > self.max_wait_s:
                raise FetchError("rate-limited", f"{_short(url)} asked to wait {wait:.0f} s (more than {self.max_wait_s:.0f})", retries)
            retries += 1
            self._wait(wait)


def _short(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "..."


ClientFactory = Callable[[PullConfig, dict[str, str]], SystemClient]
