"""The served contract: GET /openapi.json and Swagger UI at /docs need no token; the document
served is the one checked in; the page loads nothing from elsewhere."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

CHECKED_IN = Path(__file__).parents[2] / "docs" / "openapi.json"


def _get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.status, response.headers["Content-Type"], response.read().decode()


def test_the_document_is_served_without_a_token(stack):
    status, kind, body = _get(f"{stack.api_url}/openapi.json")
    assert status == 200 and kind.startswith("application/json")
    assert json.loads(body) == json.loads(CHECKED_IN.read_text())


def test_swagger_ui_is_served_locally_with_no_third_party_resource(stack):
    status, kind, page = _get(f"{stack.api_url}/docs")
    assert status == 200 and kind.startswith("text/html")
    assert "SwaggerUIBundle" in page and '"openapi": "3.1' in page
    # Every script and style is inline: no src= or href= to another host.
    assert not re.findall(r"""(?:src|href)=["']https?://""", page)
