"""The interactive API documentation (Swagger UI) from local files: FastAPI's own page loads it from a
CDN, which intranets cannot reach, and starts it with an inline script, which the CSP refuses."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title} – API</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
  <script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/static/js/swagger_init.js"></script>
</body>
</html>
"""


def install_api_docs(app: FastAPI, path: str = "/api/docs") -> None:
    page = PAGE.format(title=app.title, openapi_url=app.openapi_url)

    @app.get(path, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(page)
