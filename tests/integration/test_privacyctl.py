"""privacyctl against the local stack over HTTP."""

from __future__ import annotations

import json
import re
import urllib.request

from privacyctl.cli import main


def _last_json(out: str) -> dict:
    """privacyctl prints one indented JSON document, after any one-line handler logs."""
    return json.loads(out[out.index("{\n") :])


def _run(stack, capsys, *argv, ask=lambda question: False):
    code = main(["--api", stack.api_url, "--token", "dev:alice:agent", *argv], ask=ask)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cease_and_resume_non_interactively(stack, capsys, new_customer):
    customer_id, _ = new_customer()
    code, out, _ = _run(stack, capsys, "cease", customer_id, "--identity-verified", "--yes")
    assert code == 0
    assert "COMPLETED (Cease Marketing Processing - Completed)" in out

    code, out, _ = _run(stack, capsys, "customer", customer_id)
    shown = _last_json(out)
    assert shown["privacyStatus"] == "CEASED" and shown["permissions"]["loyalty"] is True

    code, out, _ = _run(stack, capsys, "resume", customer_id, "--identity-verified", "--yes")
    assert code == 0 and "Resume Marketing Processing - Completed" in out


def test_interactive_questions_gate_submission_and_confirmation(stack, capsys, new_customer):
    customer_id, _ = new_customer()
    asked = []

    code, _, err = _run(stack, capsys, "cease", customer_id, ask=lambda q: asked.append(q))
    assert code == 1 and "identity must be verified" in err
    assert "verified the identity" in asked[0]

    answers = iter([True, False])  # identity verified: yes; "Yes, Cease Marketing?": no
    code, out, _ = _run(stack, capsys, "cease", customer_id, ask=lambda q: next(answers))
    assert code == 0 and "Left awaiting confirmation" in out
    # stdout also carries the in-process handlers' JSON logs: pick privacyctl's own line.
    request_id = re.search(r"^request ([0-9a-f]{32}): AWAITING_CONFIRMATION$", out, re.M).group(1)

    code, out, _ = _run(stack, capsys, "request", request_id)
    assert _last_json(out)["status"] == "AWAITING_CONFIRMATION"
    code, out, _ = _run(stack, capsys, "cancel", request_id)
    assert code == 0 and _last_json(out)["status"] == "CANCELLED"


def test_api_errors_print_the_message_and_exit_non_zero(stack, capsys):
    code, _, err = _run(stack, capsys, "cease", "C-nobody", "--identity-verified", "--yes")
    assert code == 1
    assert "customer C-nobody was not found (NOT_FOUND, HTTP 404)" in err
    code, _, err = _run(stack, capsys, "confirm", "f" * 32)
    assert code == 1 and "HTTP 404" in err


def test_forget_with_cascade(stack, capsys, new_customer):
    customer_id, _ = new_customer()
    code, out, _ = _run(
        stack, capsys, "forget", customer_id, "--cascade", "--identity-verified", "--yes"
    )
    assert code == 0 and "COMPLETED (Forget Processing - Completed)" in out
    # Whom the cascade erases, named before the confirmation (the request's cascadeTo).
    assert "will also forget related contacts: C-1002, C-1003" in out
    request_id = re.search(r"^request ([0-9a-f]{32}): COMPLETED", out, re.M).group(1)
    code, out, _ = _run(stack, capsys, "request", request_id)
    assert _last_json(out)["cascade"] is True
    code, out, _ = _run(stack, capsys, "customer", customer_id)
    assert _last_json(out)["privacyStatus"] == "FORGOTTEN"


def test_consent_opt_out_and_double_opt_in(stack, capsys, new_customer):
    customer_id, _ = new_customer()
    argv = ("consent", customer_id, "newsletter", "--channel", "sms")
    code, out, _ = _run(stack, capsys, *argv, "--revoke", "--source", "crm")
    assert code == 0 and _last_json(out)["status"] == "REVOKED"

    code, out, err = _run(stack, capsys, *argv, "--grant", "--source", "preference-centre")
    pending = _last_json(out)
    assert code == 0 and pending["status"] == "PENDING"
    assert "privacyctl outbox" in out
    # The customer's side, by hand: the message in the outbox, and what its link sends.
    code, out, _ = _run(stack, capsys, "outbox", "--customer", customer_id, "--output", "json")
    (message,) = json.loads(out[out.index('{\n  "messages"') :])["messages"]
    token = message["detail"]["token"]
    assert token not in json.dumps(pending) and token.rpartition(".")[2] not in err
    assert message["type"] == "ConsentConfirmationRequested"
    action = message["action"]
    assert action["url"] == f"{stack.api_url}/public/consents/confirm"
    code, text, _ = _run(stack, capsys, "outbox", "--customer", customer_id)
    assert f"ConsentConfirmationRequested to {customer_id}" in text and token in text
    assert "the customer's link sends: curl -s -X POST" in text
    request = urllib.request.Request(
        action["url"],
        data=json.dumps(action["body"]).encode(),
        method=action["method"],
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["status"] == "GRANTED"
    # No staff command redeems a token any more.
    code, _, err = _run(stack, capsys, "consent-confirm", token)
    assert code == 2 and "invalid choice" in err
