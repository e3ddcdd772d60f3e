"""Login throttling: failed attempts counted per account and per client address in stacked fixed windows
(a few a minute, more per quarter hour, hour and day), so each further run of failures waits longer.

The account is the normalised name typed, whether or not such a user exists: an unknown name is
throttled exactly like a known one, and nobody learns from the throttle which names exist. While any
window is exhausted every attempt is refused, the right password included.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import threading
import time
from collections.abc import Callable, Iterator

from limits import RateLimitItem, parse_many
from limits.errors import ConfigurationError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from trainquant.errors import DomainError

DATABASE_STORAGE = "database"


class TooManyAttempts(DomainError):
    status = 429
    title = "Too many attempts"
    type_slug = "too-many-attempts"

    def __init__(self, retry_after_s: int):
        super().__init__(f"too many failed log-ins; try again in {retry_after_s} seconds", retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s


def account_key(username: str) -> str:
    # A digest: the counters table never shows which names were tried (failed logins are recorded elsewhere).
    return hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]


def address_key(address: str | None) -> str:
    """IPv6 clients are counted per /64, the block one subscriber usually gets; IPv4 per address."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


class LoginThrottle:
    def __init__(self, storage: Storage, *, per_account: str, per_address: str, now: Callable[[], float] | None = None):
        self.storage = storage
        self.limiter = FixedWindowRateLimiter(storage)
        self.per_account = parse_many(per_account)
        self.per_address = parse_many(per_address)
        # The storage's own clock where it has one (the database storage follows the application's).
        self.now: Callable[[], float] = now if now is not None else getattr(storage, "now", time.time)

    def _windows(self, username: str, address: str | None) -> Iterator[tuple[RateLimitItem, tuple[str, str]]]:
        for item in self.per_account:
            yield item, ("login-account", account_key(username))
        for item in self.per_address:
            yield item, ("login-address", address_key(address))

    def retry_after(self, username: str, address: str | None) -> int | None:
        """Seconds until every exhausted window has ended, or None when an attempt may go ahead."""
        now, ends = self.now(), []
        for item, ident in self._windows(username, address):
            if not self.limiter.test(item, *ident):
                ends.append(self.limiter.get_window_stats(item, *ident).reset_time)
        return max(1, math.ceil(max(ends) - now)) if ends else None

    def failed(self, username: str, address: str | None) -> None:
        for item, ident in self._windows(username, address):
            self.limiter.hit(item, *ident)

    def clear_account(self, username: str) -> None:
        for item in self.per_account:
            self.limiter.clear(item, "login-account", account_key(username))


_LOCK = threading.Lock()


def login_throttle(app) -> LoginThrottle:
    """The application's throttle, made at first use from its settings."""
    throttle = getattr(app.state, "login_throttle", None)
    if throttle is not None:
        return throttle
    with _LOCK:
        throttle = getattr(app.state, "login_throttle", None)
        if throttle is None:
            settings = app.state.settings
            throttle = app.state.login_throttle = LoginThrottle(
                make_storage(settings.rate_limit_storage, app),
                per_account=settings.login_limits_per_account,
                per_address=settings.login_limits_per_address,
            )
    return throttle


def make_storage(uri: str, app) -> Storage:
    if uri == DATABASE_STORAGE:
        from trainquant.auth.ratelimit import DatabaseStorage

        return DatabaseStorage(lambda: app.state.sessionmaker, lambda: app.state.clock.now().timestamp())
    storage = storage_from_string(uri)
    if not isinstance(storage, Storage):  # limits' fixed-window limiter counts synchronously
        raise ConfigurationError(f"TQ_RATE_LIMIT_STORAGE {uri!r} is an async storage; the login throttle needs a synchronous one")
    return storage
