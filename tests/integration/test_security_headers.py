"""Security headers on every response, and templates that a strict Content-Security-Policy can allow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from trainquant.app import create_app
from trainquant.config import Settings

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "trainquant" / "web" / "templates"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


@pytest.mark.parametrize("path", ["/login", "/api/v1/me", "/static/css/app.css", "/healthz", "/api/docs", "/nowhere"])
def test_every_response_carries_the_security_headers(client, path):
    resp = client.get(path)
    assert resp.headers["content-security-policy"] == CSP
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "same-origin"
    assert resp.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in resp.headers  # plain HTTP: TQ_COOKIE_SECURE is off


def test_hsts_only_when_cookies_are_secure(database_url, engine, session_factory):
    app = create_app(Settings(env="test", database_url=database_url, cookie_secure=True), engine=engine)
    app.state.sessionmaker = session_factory
    with TestClient(app, base_url="https://testserver") as c:
        assert c.get("/login").headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_the_api_docs_load_swagger_ui_from_this_server_only(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/static/") or s.startswith("data:") for s in sources), sources
    assert "<script>" not in page.text
    for asset in ("/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/swagger-ui/swagger-ui.css", "/static/js/swagger_init.js"):
        assert client.get(asset).status_code == 200, asset


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_nothing_inline_that_the_policy_refuses(path):
    text = path.read_text(encoding="utf-8")
    found = [f"{what}: {m.group(0)!r}" for pattern, what in INLINE for m in pattern.finditer(text)]
    assert not found, found
