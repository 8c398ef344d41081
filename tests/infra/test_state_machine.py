"""The one workflow file, as-is, with each placeholder substituted by its function's ARN."""

from __future__ import annotations

import json

from statelint.cli import main as statelint

from infra.functions import FUNCTIONS
from infra.state_machine import DEFINITION_FILE, definition_text, placeholders, render
from tests.infra.conftest import Synth

# AWS accepts integer BackoffRate (JSON numbers have no int/float distinction; the console and
# CDK write `2`); statelint's FLOAT check predates that.
STATELINT_IGNORE = "--ignore=FLOAT"


def _state_machine(synth: Synth) -> dict:
    _, machine = synth.state_machine()
    return machine["Properties"]


def test_definition_is_the_file_inline(synth: Synth) -> None:
    props = _state_machine(synth)
    assert props["DefinitionString"] == definition_text()
    assert "DefinitionS3Location" not in props


def test_substitutions_are_exactly_the_placeholders(synth: Synth) -> None:
    substitutions = _state_machine(synth)["DefinitionSubstitutions"]
    assert set(substitutions) == placeholders()


def test_each_placeholder_is_its_functions_arn(synth: Synth) -> None:
    substitutions = _state_machine(synth)["DefinitionSubstitutions"]
    for spec in FUNCTIONS:
        if spec.placeholder:
            logical_id, _ = synth.function(spec.name)
            assert substitutions[spec.placeholder] == {"Fn::GetAtt": [logical_id, "Arn"]}


def test_state_machine_invokes_only_the_workflow_functions(synth: Synth) -> None:
    role_id = _state_machine(synth)["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    invoke = [s for s in statements if "lambda:InvokeFunction" in json.dumps(s["Action"])]
    assert len(invoke) == 1
    expected = {
        json.dumps({"Fn::GetAtt": [synth.function(spec.name)[0], "Arn"]})
        for spec in FUNCTIONS
        if spec.placeholder
    }
    assert {json.dumps(r) for r in invoke[0]["Resource"]} == expected


def test_logs_everything_but_execution_data_and_traces(synth: Synth) -> None:
    props = _state_machine(synth)
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False
    assert props["TracingConfiguration"] == {"Enabled": True}


def test_statelint_passes_on_the_file(capsys) -> None:  # type: ignore[no-untyped-def]
    assert statelint([STATELINT_IGNORE, str(DEFINITION_FILE)]) == 0, capsys.readouterr().out


def test_statelint_passes_on_the_rendered_definition(capsys) -> None:  # type: ignore[no-untyped-def]
    rendered = render(
        {p: f"arn:aws:lambda:eu-west-1:123456789012:function:{p}" for p in placeholders()}
    )
    assert statelint([STATELINT_IGNORE, rendered]) == 0, capsys.readouterr().out
