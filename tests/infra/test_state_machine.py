"""Each workflow file (the privacy request's, the re-permission campaign's), as-is, with each
placeholder substituted by its function's ARN."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from statelint.cli import main as statelint

from infra.functions import FUNCTIONS
from infra.state_machine import (
    CAMPAIGN_DEFINITION_FILE,
    DEFINITION_FILE,
    definition_text,
    placeholders,
    render,
)
from tests.infra.conftest import Synth

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")

MACHINES = [
    ("privacy-request", DEFINITION_FILE),
    ("repermission-campaign", CAMPAIGN_DEFINITION_FILE),
]
each_machine = pytest.mark.parametrize(("name", "file"), MACHINES, ids=[m[0] for m in MACHINES])

# AWS accepts integer BackoffRate (JSON numbers have no int/float distinction; the console and
# CDK write `2`); statelint's FLOAT check predates that.
STATELINT_IGNORE = "--ignore=FLOAT"


def _state_machine(synth: Synth, name: str = "privacy-request") -> dict:
    return synth.state_machine(name)[1]["Properties"]


def test_one_state_machine_per_file(synth: Synth) -> None:
    # ... and the audience split path's, checked in test_audience_split.py.
    assert len(synth.of_type("AWS::StepFunctions::StateMachine")) == len(MACHINES) + 1


@each_machine
def test_definition_is_the_file_inline(synth: Synth, name: str, file: Path) -> None:
    props = _state_machine(synth, name)
    assert props["DefinitionString"] == definition_text(file)
    assert "DefinitionS3Location" not in props


@each_machine
def test_substitutions_are_exactly_the_placeholders(synth: Synth, name: str, file: Path) -> None:
    substitutions = _state_machine(synth, name)["DefinitionSubstitutions"]
    assert set(substitutions) == placeholders(file)


@each_machine
def test_each_placeholder_is_its_functions_arn(synth: Synth, name: str, file: Path) -> None:
    substitutions = _state_machine(synth, name)["DefinitionSubstitutions"]
    for spec in FUNCTIONS:
        if spec.placeholder in placeholders(file):
            logical_id, _ = synth.function(spec.name)
            assert substitutions[spec.placeholder] == {"Fn::GetAtt": [logical_id, "Arn"]}


@each_machine
def test_state_machine_invokes_only_the_workflow_functions(
    synth: Synth, name: str, file: Path
) -> None:
    role_id = _state_machine(synth, name)["RoleArn"]["Fn::GetAtt"][0]
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
        if spec.placeholder in placeholders(file)
    }
    assert {json.dumps(r) for r in invoke[0]["Resource"]} == expected


@each_machine
def test_logs_everything_but_execution_data_and_traces(synth: Synth, name: str, file: Path) -> None:
    props = _state_machine(synth, name)
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False
    assert props["TracingConfiguration"] == {"Enabled": True}


@each_machine
def test_statelint_passes_on_the_file(capsys, name: str, file: Path) -> None:  # type: ignore[no-untyped-def]
    assert statelint([STATELINT_IGNORE, str(file)]) == 0, capsys.readouterr().out


@each_machine
def test_statelint_passes_on_the_rendered_definition(capsys, name: str, file: Path) -> None:  # type: ignore[no-untyped-def]
    rendered = render(
        {p: f"arn:aws:lambda:eu-west-1:123456789012:function:{p}" for p in placeholders(file)},
        file,
    )
    assert statelint([STATELINT_IGNORE, rendered]) == 0, capsys.readouterr().out
