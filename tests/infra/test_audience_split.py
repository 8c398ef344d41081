"""The audience split state machine: its own definition file, as-is, with each placeholder
substituted by its step function's ARN, and a role that may run the Distributed Map's children."""

from __future__ import annotations

import json
from typing import Any

import pytest
from statelint.cli import main as statelint

from infra.functions import FUNCTIONS
from infra.state_machine import AUDIENCE_SPLIT_FILE, definition_text, placeholders, render
from tests.infra.conftest import Synth
from tests.infra.test_state_machine import STATELINT_IGNORE

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")

STEPS = [spec for spec in FUNCTIONS if spec.placeholder in placeholders(AUDIENCE_SPLIT_FILE)]


def _machine(synth: Synth) -> tuple[str, dict[str, Any]]:
    machine_id, machine = synth.state_machine("audience-split")
    return machine_id, machine["Properties"]


def _role_statements(synth: Synth) -> list[dict[str, Any]]:
    role_id = _machine(synth)[1]["RoleArn"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_definition_is_the_file_inline_with_each_steps_arn(synth: Synth) -> None:
    _, props = _machine(synth)
    assert props["DefinitionString"] == definition_text(AUDIENCE_SPLIT_FILE)
    substitutions = props["DefinitionSubstitutions"]
    assert set(substitutions) == placeholders(AUDIENCE_SPLIT_FILE)
    assert [spec.name for spec in STEPS] == [
        "AudiencePlan",
        "AudienceScreenPart",
        "AudienceCombine",
    ]
    for spec in STEPS:
        logical_id, _ = synth.function(spec.name)
        assert substitutions[spec.placeholder] == {"Fn::GetAtt": [logical_id, "Arn"]}


def test_the_map_is_distributed_and_tolerates_no_failed_part() -> None:
    definition = json.loads(definition_text(AUDIENCE_SPLIT_FILE))
    (screen,) = [s for s in definition["States"].values() if s["Type"] == "Map"]
    assert screen["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",
    }
    assert screen["ToleratedFailureCount"] == 0
    assert screen["MaxConcurrencyPath"] == "$.maxConcurrency"
    assert screen["Catch"][0]["Next"] == "RecordFailure"


def test_role_invokes_the_steps_and_runs_its_own_children(synth: Synth) -> None:
    statements = _role_statements(synth)
    name = f"{synth.prefix}-audience-split"
    invoke = [s for s in statements if "lambda:InvokeFunction" in json.dumps(s["Action"])]
    assert len(invoke) == 1
    expected = {json.dumps({"Fn::GetAtt": [synth.function(spec.name)[0], "Arn"]}) for spec in STEPS}
    assert {json.dumps(r) for r in invoke[0]["Resource"]} == expected
    (start,) = [s for s in statements if s["Action"] == "states:StartExecution"]
    assert f':stateMachine:{name}"' in json.dumps(start["Resource"])
    (children,) = [s for s in statements if "states:DescribeExecution" in s["Action"]]
    assert set(children["Action"]) == {"states:DescribeExecution", "states:StopExecution"}
    assert f':execution:{name}/*"' in json.dumps(children["Resource"])


def test_logs_everything_but_execution_data(synth: Synth) -> None:
    _, props = _machine(synth)
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert props["TracingConfiguration"] == {"Enabled": True}


def test_the_filter_hands_large_files_to_it(synth: Synth) -> None:
    machine_id, _ = _machine(synth)
    variables = synth.function("AudienceFilter")[1]["Properties"]["Environment"]["Variables"]
    assert variables["AUDIENCE_SPLIT_STATE_MACHINE_ARN"] == {"Ref": machine_id}


def test_one_invocation_has_what_files_below_the_threshold_need(synth: Synth) -> None:
    """The threshold (README, "Audience filter") assumes the largest invocation Lambda has."""
    props = synth.function("AudienceFilter")[1]["Properties"]
    assert props["MemorySize"] == 10240 and props["Timeout"] == 900
    assert props["EphemeralStorage"] == {"Size": 10240}


def test_statelint_passes_on_the_file_and_the_rendered_definition(capsys) -> None:  # type: ignore[no-untyped-def]
    assert statelint([STATELINT_IGNORE, str(AUDIENCE_SPLIT_FILE)]) == 0, capsys.readouterr().out
    rendered = render(
        {
            p: f"arn:aws:lambda:eu-west-1:123456789012:function:{p}"
            for p in placeholders(AUDIENCE_SPLIT_FILE)
        },
        AUDIENCE_SPLIT_FILE,
    )
    assert statelint([STATELINT_IGNORE, rendered]) == 0, capsys.readouterr().out
