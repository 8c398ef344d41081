"""`privacyctl outbox` against stand-in APIs: a deployed API (which has no outbox) is a clear
error, the local one's messages are printed with what their link sends."""

from __future__ import annotations

from typing import Any

import pytest

from privacyctl import cli, outbox
from privacyctl.client import ApiError


class DeployedApi:
    """API Gateway's answer to a path no route has (its gateway response, infra/cdk/api.py)."""

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        raise ApiError(404, "NOT_FOUND", "no such route")


class LocalApi:
    def __init__(self) -> None:
        self.paths: list[str] = []

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        self.paths.append(path)
        detail = {"customerId": "C-1", "topic": "news", "token": "C-1.secret"}
        action = {
            "method": "POST",
            "url": "http://x/public/consents/confirm",
            "body": {"token": "C-1.secret"},
        }
        message = {"at": "t", "type": "ConsentConfirmationRequested", "customerId": "C-1"}
        return {"messages": [{**message, "detail": detail, "action": action}]}


def _args(*argv: str):
    return cli.build_parser().parse_args(["outbox", *argv])


def test_a_deployed_api_has_no_outbox():
    with pytest.raises(ApiError) as error:
        outbox.run_outbox(_args(), DeployedApi())  # type: ignore[arg-type]
    assert "local stack's only" in error.value.message and error.value.status == 404


def test_the_local_outbox_prints_each_message_and_its_link():
    api = LocalApi()
    result, text = outbox.run_outbox(_args("--customer", "C-1"), api)  # type: ignore[arg-type]
    assert api.paths == ["/_local/outbox?customerId=C-1"]
    assert result["messages"][0]["detail"]["token"] == "C-1.secret"
    assert "ConsentConfirmationRequested to C-1" in text and "token: C-1.secret" in text
    assert "curl -s -X POST" in text and "http://x/public/consents/confirm" in text
