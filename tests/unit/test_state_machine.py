"""The one workflow definition: its placeholders, its shape, and what the local executor can run."""

import json

import pytest

from infra.functions import FUNCTIONS
from infra.state_machine import (
    AUDIENCE_SPLIT_FILE,
    CAMPAIGN_DEFINITION_FILE,
    DEFINITION_FILE,
    definition_text,
    placeholders,
    render,
)


def _definition() -> dict:
    return json.loads(definition_text())


def test_placeholders_are_exactly_the_workflow_functions():
    # Each function's placeholder is in exactly one definition.
    files = (DEFINITION_FILE, CAMPAIGN_DEFINITION_FILE, AUDIENCE_SPLIT_FILE)
    named = [placeholders(file) for file in files]
    assert sum(len(names) for names in named) == len(set().union(*named))
    assert set().union(*named) == {spec.placeholder for spec in FUNCTIONS if spec.placeholder}


def test_render_substitutes_everything_and_refuses_a_mismatch():
    arns = {name: f"arn:aws:lambda:eu-west-1:1:function:{name}" for name in placeholders()}
    rendered = json.loads(render(arns))
    assert "${" not in json.dumps(rendered)
    with pytest.raises(ValueError, match="missing"):
        render(dict(list(arns.items())[1:]))
    with pytest.raises(ValueError, match="unused"):
        render({**arns, "Extra": "x"})


def test_jsonpath_only():
    text = definition_text()
    assert "JSONata" not in text and '"Assign"' not in text and "QueryLanguage" not in text


def test_every_transition_points_at_a_state_and_every_state_is_reachable():
    states = _definition()["States"]
    targets = {_definition()["StartAt"]}
    for state in states.values():
        targets.update(t for t in [state.get("Next"), state.get("Default")] if t)
        targets.update(c["Next"] for c in state.get("Choices", []) + state.get("Catch", []))
    assert targets <= states.keys()
    assert targets == states.keys()


def test_every_task_retries_transient_errors_and_all_but_the_last_resort_catch():
    for name, state in _definition()["States"].items():
        if state["Type"] != "Task":
            continue
        errors = {e for retry in state["Retry"] for e in retry["ErrorEquals"]}
        assert {"Lambda.TooManyRequestsException", "TransientError"} <= errors, name
        if name != "MarkFailed":
            assert any("States.ALL" in c["ErrorEquals"] for c in state["Catch"]), name


def test_confirmation_waits_for_a_task_token_with_a_deadline():
    await_state = _definition()["States"]["AwaitConfirmation"]
    assert await_state["Resource"].endswith(".waitForTaskToken")
    assert await_state["Parameters"]["Payload"]["taskToken.$"] == "$$.Task.Token"
    assert await_state["TimeoutSecondsPath"]
    assert await_state["Catch"][0] == {
        "ErrorEquals": ["States.Timeout"],
        "ResultPath": "$.error",
        "Next": "Expire",
    }
