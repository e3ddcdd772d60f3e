"""The simulated teaching platform / CRM / OA servers over real HTTP: auth styles, pagination styles, incremental
filter and the failure plan, as the pull connector will meet them."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from trainquant.simulate.systems.process import start_process
from trainquant.simulate.systems.running import RunningSystem, start_in_thread
from trainquant.simulate.systems.server import CRASH_EXIT_CODE, SystemConfig

SHANGHAI = timezone(timedelta(hours=8))
PATH = "/api/v1/deals"
SECRETS: dict[str, Any] = {"token": "t0ken", "username": "crm-reader", "password": "s3cret", "api_key": "k3y", "client_id": "tq", "client_secret": "tq-secret"}


def make_items(count: int = 250) -> list[dict[str, Any]]:
    """Shuffled, with ties on updated_at (so the id breaks them) and two offsets (so order is by instant, not by text)."""
    items = []
    for number in range(count):
        moment = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI) + timedelta(minutes=(number * 37) % count // 2)
        stamp = moment.isoformat() if number % 2 else moment.astimezone(UTC).isoformat()
        items.append({"id": f"deal-{number:04d}", "updated_at": stamp, "amount": number * 10, "owner": "王老师"})
    return items


ITEMS = make_items()
ORDERED = sorted(ITEMS, key=lambda item: (datetime.fromisoformat(item["updated_at"]), item["id"]))
SIZE_PARAM = {"page": "per_page", "link": "per_page", "offset": "limit", "cursor": "limit"}


def config(**overrides: Any) -> SystemConfig:
    return SystemConfig(**{"name": "crm", "collection": "deals", "items": ITEMS, **SECRETS, **overrides})


@contextmanager
def running(**overrides: Any) -> Iterator[tuple[RunningSystem, httpx.Client]]:
    with start_in_thread(config(**overrides)) as system, httpx.Client(base_url=system.url, trust_env=False, timeout=5) as client:
        if overrides.get("auth") == "oauth2":
            client.headers["Authorization"] = f"Bearer {token(client)}"
        elif overrides.get("auth", "bearer") == "bearer":
            client.headers["Authorization"] = "Bearer t0ken"
        yield system, client


def token(client: httpx.Client, **form: str) -> str:
    data = {"grant_type": "client_credentials", **form}
    answer = client.post("/oauth/token", data=data) if form else client.post("/oauth/token", data=data, auth=("tq", "tq-secret"))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def walk(client: httpx.Client, style: str, size: int, **params: str) -> list[dict[str, Any]]:
    """Every page from the first to the last, the way each style says where the next page is."""
    got: list[dict[str, Any]] = []
    query: dict[str, str | int] = {**params, SIZE_PARAM[style]: size}
    answer = client.get(PATH, params=query)
    while True:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if style == "link":
            got += body
            if "next" not in answer.links:
                return got
            answer = client.get(answer.links["next"]["url"])
            continue
        if style == "page":
            got += body["data"]
            if body["page"] * body["per_page"] >= body["total"]:
                return got
            query["page"] = body["page"] + 1
        elif style == "offset":
            got += body["items"]
            query["offset"] = body["offset"] + body["limit"]
            if query["offset"] >= body["total"]:
                return got
        else:
            got += body["results"]
            if body["next_cursor"] is None:
                return got
            query["cursor"] = body["next_cursor"]
        answer = client.get(PATH, params=query)


def test_health_needs_no_auth_and_unknown_paths_are_404():
    with running() as (_, client):
        anonymous = httpx.Client(base_url=client.base_url, trust_env=False)
        assert anonymous.get("/health").json() == {"ok": True}
        missing = anonymous.get("/api/v1/other")
        assert missing.status_code == 404 and "error" in missing.json()
        assert anonymous.post("/health").status_code == 405
        assert anonymous.post("/oauth/token").status_code == 404  # no token endpoint on a bearer system


AUTH_CASES = [
    ("bearer", {"headers": {"Authorization": "Bearer t0ken"}}, {"headers": {"Authorization": "Bearer t0ken-"}}, "Bearer"),
    ("basic", {"auth": ("crm-reader", "s3cret")}, {"auth": ("crm-reader", "wrong")}, "Basic"),
    ("api_key", {"headers": {"X-School-Key": "k3y"}}, {"headers": {"X-School-Key": "k3"}}, "ApiKey"),
    ("oauth2", None, {"headers": {"Authorization": "Bearer made-up"}}, "Bearer"),
]


@pytest.mark.parametrize(("auth", "right", "wrong", "scheme"), AUTH_CASES, ids=[case[0] for case in AUTH_CASES])
def test_each_auth_style_accepts_its_credentials_and_refuses_others(auth, right, wrong, scheme):
    with running(auth=auth, api_key_header="X-School-Key") as (system, authorised):
        client = httpx.Client(base_url=authorised.base_url, trust_env=False)
        right = right or {"headers": {"Authorization": authorised.headers["Authorization"]}}
        assert client.get(PATH, **right).status_code == 200
        for refused in (client.get(PATH), client.get(PATH, **wrong), client.get(PATH, headers={"X-Api-Key": "k3y"})):
            assert refused.status_code == 401
            assert refused.headers["WWW-Authenticate"].startswith(f'{scheme} realm="crm"')
            assert "error" in refused.json()
        assert system.stats.data_requests == 1  # refusals come before the failure plan counts anything


def test_oauth2_token_flow_expiry_and_refresh():
    with running(auth="oauth2", token_ttl_s=600) as (system, client):
        anonymous = httpx.Client(base_url=client.base_url, trust_env=False)
        issued = anonymous.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("tq", "tq-secret"))
        assert issued.json()["token_type"] == "Bearer" and issued.json()["expires_in"] == 600
        assert issued.headers["Cache-Control"] == "no-store"
        from_form = token(anonymous, client_id="tq", client_secret="tq-secret")  # client authentication in the body instead
        assert from_form != issued.json()["access_token"]
        wrong_client = anonymous.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("tq", "nope"))
        assert (wrong_client.status_code, wrong_client.json()) == (401, {"error": "invalid_client"})
        wrong_grant = anonymous.post("/oauth/token", data={"grant_type": "password"}, auth=("tq", "tq-secret"))
        assert (wrong_grant.status_code, wrong_grant.json()) == (400, {"error": "unsupported_grant_type"})
        assert anonymous.post("/oauth/token", json={"grant_type": "client_credentials"}, auth=("tq", "tq-secret")).status_code == 400

        assert client.get(PATH).status_code == 200
        system.expire_tokens()
        expired = client.get(PATH)
        assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
        assert client.get(PATH, headers={"Authorization": f"Bearer {token(anonymous)}"}).status_code == 200
        assert system.stats.tokens_issued == 4  # the fixture's, the two above, the refresh


@pytest.mark.parametrize("style", ["page", "offset", "cursor", "link"])
def test_each_pagination_style_walks_every_item_once_in_order(style):
    with running(pagination=style) as (system, client):
        got = walk(client, style, 40)
        assert [item["id"] for item in got] == [item["id"] for item in ORDERED]
        assert got[0] == ORDERED[0]  # served as given, offsets and other fields untouched
        stats = system.stats
        assert stats.pages_served == math.ceil(len(ITEMS) / 40)  # no empty page at the end
        assert set(stats.served_per_item.values()) == {1} and len(stats.served_per_item) == len(ITEMS)


@pytest.mark.parametrize("style", ["page", "offset", "cursor", "link"])
def test_updated_since_keeps_only_strictly_later_items(style):
    tie = ORDERED[120]
    since = datetime.fromisoformat(tie["updated_at"])
    expected = [item["id"] for item in ORDERED if datetime.fromisoformat(item["updated_at"]) > since]
    assert 0 < len(expected) < len(ITEMS) - 120  # items tied with the boundary are left out too
    with running(pagination=style) as (_, client):
        got = walk(client, style, 30, updated_since=since.astimezone(UTC).isoformat())  # the same instant in another offset
        assert [item["id"] for item in got] == expected
        assert walk(client, style, 30, updated_since="2030-01-01T00:00:00+00:00") == []


def test_link_header_keeps_the_other_parameters():
    with running(pagination="link") as (_, client):
        answer = client.get(PATH, params={"updated_since": "2026-03-02T01:00:00+00:00", "per_page": 25, "page": 2})
        next_url = httpx.URL(answer.links["next"]["url"])
        assert next_url.host == "127.0.0.1" and next_url.path == PATH
        assert dict(next_url.params) == {"updated_since": "2026-03-02T01:00:00+00:00", "per_page": "25", "page": "3"}
        assert httpx.URL(answer.links["prev"]["url"]).params["page"] == "1"


@pytest.mark.parametrize("style", ["page", "offset", "cursor", "link"])
def test_page_size_defaults_and_is_clamped_to_the_maximum(style):
    with running(pagination=style, page_size=20, max_page_size=60) as (_, client):
        def count(answer: httpx.Response) -> int:
            body = answer.json()
            return len(body if style == "link" else body.get("data") or body.get("items") or body.get("results"))

        assert count(client.get(PATH)) == 20
        clamped = client.get(PATH, params={SIZE_PARAM[style]: 500})
        assert count(clamped) == 60
        if style in ("page", "offset"):
            assert clamped.json()[SIZE_PARAM[style]] == 60  # the size actually used is echoed back


BAD_QUERIES = [
    ("page", {"page": "0"}), ("page", {"page": "-1"}), ("page", {"page": "two"}), ("page", {"per_page": "0"}), ("page", {"per_page": "1.5"}),
    ("link", {"page": "0"}), ("offset", {"offset": "-1"}), ("offset", {"limit": "x"}), ("offset", {"limit": "0"}),
    ("cursor", {"cursor": "not-a-cursor"}), ("cursor", {"cursor": base64.urlsafe_b64encode(b'{"after": 3}').decode()}),
    ("cursor", {"limit": "-5"}), ("page", {"updated_since": "yesterday"}), ("page", {"updated_since": "2026-03-02T09:00:00"}),
    ("page", {"updated_since": ""}), ("offset", {"updated_since": "2026-13-02T09:00:00+08:00"}),
]


@pytest.mark.parametrize(("style", "params"), BAD_QUERIES)
def test_bad_parameters_answer_400(style, params):
    with running(pagination=style) as (system, client):
        answer = client.get(PATH, params=params)
        assert answer.status_code == 400 and isinstance(answer.json()["error"], str)
        assert system.stats.pages_served == 0


def test_a_repeated_parameter_or_a_cursor_for_another_filter_is_refused():
    with running(pagination="cursor") as (_, client):
        assert client.get(f"{PATH}?limit=5&limit=6").status_code == 400
        first = client.get(PATH, params={"limit": 5, "updated_since": "2026-03-02T01:00:00+00:00"}).json()
        same = client.get(PATH, params={"limit": 5, "updated_since": "2026-03-02T09:00:00+08:00", "cursor": first["next_cursor"]})
        assert same.status_code == 200  # the same instant written in another offset is the same filter
        other = client.get(PATH, params={"limit": 5, "updated_since": "2026-03-02T02:00:00+00:00", "cursor": first["next_cursor"]})
        assert other.status_code == 400


def test_rate_limit_every_nth_data_request_answers_429_with_retry_after():
    with running(rate_limit_every=3, retry_after_s=2) as (system, client):
        assert client.get(PATH, headers={"Authorization": "Bearer wrong"}).status_code == 401  # not counted
        answers = [client.get(PATH) for _ in range(7)]
        assert [answer.status_code for answer in answers] == [200, 200, 429, 200, 200, 429, 200]
        limited = answers[2]
        assert limited.headers["Retry-After"] == "2"
        assert limited.headers["Content-Type"].startswith("application/problem+json") and limited.json()["status"] == 429
        stats = system.stats
        assert (stats.data_requests, stats.pages_served, stats.rate_limited) == (7, 5, 2)


def test_error_every_nth_answers_503_and_429_takes_precedence():
    with running(error_every=2, rate_limit_every=3) as (system, client):
        assert [client.get(PATH).status_code for _ in range(6)] == [200, 503, 429, 503, 200, 429]
        assert (system.stats.unavailable, system.stats.rate_limited) == (2, 2)


def test_slow_every_nth_outlasts_a_short_client_timeout():
    with running(slow_every=2, slow_s=0.6) as (system, client):
        assert client.get(PATH, timeout=0.2).status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            client.get(PATH, timeout=0.2)
        assert client.get(PATH, timeout=0.2).status_code == 200
        patient = client.get(PATH, timeout=5)  # the fourth is slow too, and answers within slow_s
        assert patient.status_code == 200 and patient.elapsed >= timedelta(seconds=0.6)
        assert system.stats.slowed == 2


def test_crash_in_thread_mode_drops_the_connection_and_stops_serving():
    with running(crash_after_pages=1) as (system, client):
        url = system.url
        assert client.get(PATH).status_code == 200
        with pytest.raises(httpx.TransportError):
            client.get(PATH)
        assert system.crashed
        with pytest.raises(httpx.TransportError), httpx.Client(trust_env=False, timeout=2) as fresh:
            fresh.get(f"{url}/health")


def test_crash_in_a_subprocess_exits_17_and_a_restart_honours_an_old_cursor(tmp_path):
    crashing = config(pagination="cursor", page_size=50, crash_after_pages=2)
    headers = {"Authorization": "Bearer t0ken"}
    with start_process(crashing, tmp_path) as first, httpx.Client(base_url=first.url, headers=headers, trust_env=False, timeout=5) as client:
        assert first.alive()
        page_one = client.get(PATH).json()
        page_two = client.get(PATH, params={"cursor": page_one["next_cursor"]}).json()
        with pytest.raises(httpx.TransportError):
            client.get(PATH, params={"cursor": page_two["next_cursor"]})
        assert first.wait(timeout=10) == CRASH_EXIT_CODE and not first.alive()
    with start_process(crashing, tmp_path) as second, httpx.Client(base_url=second.url, headers=headers, trust_env=False, timeout=5) as client:
        resumed = client.get(PATH, params={"cursor": page_two["next_cursor"]})
        assert resumed.status_code == 200
        seen = page_one["results"] + page_two["results"] + resumed.json()["results"]
        assert [item["id"] for item in seen] == [item["id"] for item in ORDERED[:150]]
    assert not second.alive()


def test_config_round_trips_through_json_and_refuses_mistakes():
    original = config(auth="api_key", pagination="link", error_every=4)
    assert SystemConfig.from_dict(json.loads(original.to_json())) == original
    with pytest.raises(ValueError, match="unknown config fields: error_evry"):
        SystemConfig.from_dict({**json.loads(original.to_json()), "error_evry": 3})
    for mistake in ({"auth": "kerberos"}, {"pagination": "scroll"}, {"token": ""}, {"page_size": 0}, {"page_size": 2000},
                    {"rate_limit_every": 0}, {"collection": "a/b"}, {"items": [{"id": "x", "updated_at": "2026-03-02T09:00:00"}]},
                    {"items": [{"id": "x", "updated_at": "2026-03-02T09:00:00Z"}] * 2}):
        with pytest.raises(ValueError):
            config(**mistake)
