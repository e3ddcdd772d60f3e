"""The database storage behind login throttling: ``limits``' fixed windows, shared by every process."""

from __future__ import annotations

import threading
import uuid

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from trainquant.auth.ratelimit import DatabaseStorage
from trainquant.auth.throttle import LoginThrottle, address_key, make_storage
from trainquant.db import make_sessionmaker


class Now:
    def __init__(self, t: float = 1_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_fixed_windows_count_expire_and_clear(session_factory):
    now = Now()
    storage = DatabaseStorage(lambda: session_factory, now)
    limiter = FixedWindowRateLimiter(storage)
    three = parse("3/minute")
    assert all(limiter.hit(three, "k") for _ in range(3))
    assert not limiter.hit(three, "k") and not limiter.test(three, "k")
    assert limiter.get_window_stats(three, "k").reset_time == pytest.approx(now.t + 60)
    assert limiter.test(three, "other")
    now.t += 60
    assert limiter.test(three, "k") and limiter.hit(three, "k")
    assert storage.get(three.key_for("k")) == 1
    limiter.clear(three, "k")
    assert storage.get(three.key_for("k")) == 0
    assert storage.check()
    limiter.hit(three, "k")
    assert storage.reset() >= 1


def test_concurrent_increments_lose_no_count(engine):
    # Real transactions on the test database (SQLite or PostgreSQL), several connections at once.
    factory = make_sessionmaker(engine)
    storage = DatabaseStorage(lambda: factory, Now())
    key = f"concurrency-{uuid.uuid4().hex}"

    def work():
        for _ in range(25):
            storage.incr(key, 60)

    threads = [threading.Thread(target=work) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert storage.get(key) == 100
    finally:
        storage.clear(key)


def test_limits_own_storages_are_used_for_a_uri():
    storage = make_storage("memory://", app=None)
    throttle = LoginThrottle(storage, per_account="2/minute", per_address="10/minute")
    throttle.failed("hr", "10.0.0.1")
    assert throttle.retry_after("hr", "10.0.0.1") is None
    throttle.failed("hr", "10.0.0.1")
    assert 1 <= throttle.retry_after("HR ", "10.0.0.2") <= 60
    throttle.clear_account("hr")
    assert throttle.retry_after("hr", "10.0.0.3") is None


def test_ipv6_clients_are_counted_per_64_block():
    assert address_key("2001:db8:1:2:3:4:5:6") == address_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert address_key("::ffff:10.0.0.1") == "10.0.0.1"
    assert address_key("10.0.0.1") == "10.0.0.1"
    assert address_key(None) == "unknown"
