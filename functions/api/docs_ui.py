"""Swagger UI over the OpenAPI document, at /docs on the local stack only. Built from powertools'
Swagger UI (its bundled assets, so the page fetches nothing from elsewhere), imported on the first
request: `enable_swagger` at import time would cost every cold start its OpenAPI models (~55 ms)
for a page the deployed API never serves (its REST API has no /docs resource)."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from functions.api.openapi import document


def enabled() -> bool:
    # Read per request: the local stack sets API_DOCS_UI for its API function; AWS never does.
    return os.environ.get("API_DOCS_UI", "").lower() in ("1", "true")


@cache
def _page(app: APIGatewayRestResolver) -> str:
    import aws_lambda_powertools.event_handler as handlers
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    assets = Path(handlers.__file__).parent / "openapi" / "swagger_ui"
    spec = json.dumps(document(app)).replace("</", "<\\/")
    js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    return generate_swagger_html(spec, js, css, "", None, False)


def docs_page(app: APIGatewayRestResolver) -> Response[Any]:
    return Response(200, "text/html", _page(app))
