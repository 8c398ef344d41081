"""privacyctl's actions against a stand-in API: a cascading forget names whom it will also erase
before it asks "Yes, Forget?" (when the API lists them on the request)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from privacyctl import cli
from privacyctl.options import UsageError
from privacyctl.requests import username_of


class FakeApi:
    def __init__(self, detail: dict[str, Any]) -> None:
        self.detail = detail
        self.calls: list[str] = []

    def submit(self, customer_id: str, body: dict[str, Any], key: str | None) -> dict[str, Any]:
        self.calls.append(f"submit {body.get('cascade')}")
        return {"requestId": "r1", "status": "AWAITING_CONFIRMATION"}

    def request(self, request_id: str) -> dict[str, Any]:
        return {"requestId": request_id, "status": "AWAITING_CONFIRMATION", **self.detail}


def _args(*argv: str):
    return cli.build_parser().parse_args(["forget", "C-1001", "--identity-verified", *argv])


def test_cascade_preview_comes_before_the_question(capsys):
    api = FakeApi({"cascadeTo": ["C-1002", "C-1003"]})
    order: list[str] = []

    def ask(question: str) -> bool:
        order.append(capsys.readouterr().out)
        order.append(question)
        return False

    assert cli.run_action(_args("--cascade"), api, ask) == 0  # type: ignore[arg-type]
    assert "will also forget related contacts: C-1002, C-1003" in order[0]
    assert order[1] == "Yes, Forget?"


def test_no_preview_without_cascade_or_without_the_field(capsys):
    for argv, detail in (((), {"cascadeTo": ["C-1002"]}), (("--cascade",), {})):
        api = FakeApi(detail)
        cli.run_action(_args(*argv, "--no-confirm"), api, lambda q: False)  # type: ignore[arg-type]
        assert "related contacts" not in capsys.readouterr().out


def test_mine_reads_the_user_from_a_dev_token_or_a_cognito_token():
    claims = base64.urlsafe_b64encode(json.dumps({"cognito:username": "dana"}).encode())
    assert username_of("dev:alice:agent+compliance") == "alice"
    assert username_of(f"h.{claims.decode().rstrip('=')}.sig") == "dana"
    with pytest.raises(UsageError):
        username_of("opaque")
