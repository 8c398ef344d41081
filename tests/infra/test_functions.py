"""Every function of infra/functions.py, with its handler, its settings and only functions/ code;
the dependencies in a layer built by pip for the Lambda platform."""

from __future__ import annotations

import pytest

from infra.cdk.assets import LAYER_SIZE_LIMIT
from infra.cdk.lambdas import required_settings
from infra.functions import FUNCTIONS, FunctionSpec
from infra.tables import TABLES
from tests.infra.conftest import Synth, record

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")


def _size(path) -> int:  # type: ignore[no-untyped-def]
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _dependencies_layers(synth: Synth) -> dict[str, dict]:
    """Our functions' layer; not the AWS CLI layer CDK's BucketDeployment brings (infra/cdk/
    pages.py)."""
    layers = synth.of_type("AWS::Lambda::LayerVersion")
    return {k: r for k, r in layers.items() if k.startswith("FunctionsDependencies")}


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_function_runs_its_handler(synth: Synth, spec: FunctionSpec) -> None:
    _, function = synth.function(spec.name)
    props = function["Properties"]
    assert props["Handler"] == spec.handler
    assert props["Runtime"] == "python3.11"
    assert props["Architectures"] == ["x86_64"]
    (layer_id,) = _dependencies_layers(synth)
    assert props["Layers"] == [{"Ref": layer_id}]


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_environment_is_the_settings_model(synth: Synth, spec: FunctionSpec) -> None:
    _, function = synth.function(spec.name)
    variables = function["Properties"]["Environment"]["Variables"]
    fields = {name.upper() for name in spec.settings.model_fields}
    assert required_settings(spec) <= variables.keys() <= fields
    for table in TABLES:
        if table.env_var in variables:
            table_id, _ = synth.table(table.suffix)
            assert variables[table.env_var] == {"Ref": table_id}


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_function_has_a_role_of_its_own(synth: Synth, spec: FunctionSpec) -> None:
    _, function = synth.function(spec.name)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    others = {
        synth.function(other.name)[1]["Properties"]["Role"]["Fn::GetAtt"][0]
        for other in FUNCTIONS
        if other is not spec
    }
    assert role_id not in others
    role = synth.resources[role_id]["Properties"]
    assert role.get("ManagedPolicyArns") is None
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_api_and_workflow_get_the_state_machine_arn(synth: Synth) -> None:
    machine_id, _ = synth.state_machine()
    for spec in FUNCTIONS:
        variables = synth.function(spec.name)[1]["Properties"]["Environment"]["Variables"]
        if "STATE_MACHINE_ARN" in {n.upper() for n in spec.settings.model_fields}:
            assert variables["STATE_MACHINE_ARN"] == {"Ref": machine_id}
    campaigns_id, _ = synth.state_machine("repermission-campaign")
    api = synth.function("Api")[1]["Properties"]["Environment"]["Variables"]
    assert api["CAMPAIGN_STATE_MACHINE_ARN"] == {"Ref": campaigns_id}


def test_function_asset_holds_functions_only(synth: Synth) -> None:
    keys = {synth.function(spec.name)[1]["Properties"]["Code"]["S3Key"] for spec in FUNCTIONS}
    assert len(keys) == 1, "all functions share one code asset"
    asset = synth.asset_dir(keys.pop())
    assert sorted(p.name for p in asset.iterdir()) == ["functions"]
    for spec in FUNCTIONS:
        module = spec.handler.rsplit(".", 1)[0].replace(".", "/")
        assert (asset / f"{module}.py").is_file(), spec.handler
    assert not list(asset.rglob("__pycache__"))
    assert not list(asset.rglob("test_*.py"))
    record("function asset (unzipped)", f"{_size(asset) / 1024:.0f} KiB")


def test_layer_is_built_for_the_lambda_platform(synth: Synth) -> None:
    (layer,) = _dependencies_layers(synth).values()
    props = layer["Properties"]
    assert props["CompatibleRuntimes"] == ["python3.11"]
    assert props["CompatibleArchitectures"] == ["x86_64"]
    python = synth.asset_dir(props["Content"]["S3Key"]) / "python"
    for package in ("aws_lambda_powertools", "pynamodb", "pydantic", "boto3"):
        assert (python / package).is_dir(), package
    # Compiled for Lambda (CPython 3.11, x86_64 Linux), whatever machine synthesized it.
    assert list(python.glob("pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu.so"))
    size = _size(python)
    assert size < LAYER_SIZE_LIMIT
    record("dependencies layer (unzipped)", f"{size / 1024 / 1024:.1f} MiB")
