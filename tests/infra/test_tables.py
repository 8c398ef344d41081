"""The tables are the pynamodb models' tables: key schema, attributes and indexes as pynamodb
itself would create them, plus what the cloud adds (KMS, PITR, TTL, retention)."""

from __future__ import annotations

from typing import Any

import pytest
from pynamodb.attributes import TTLAttribute

from infra.tables import TABLES, TableSpec
from tests.infra.conftest import Synth

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")


def _keys(key_schema: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(k["AttributeName"], k["KeyType"]) for k in key_schema}


def _attributes(definitions: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(a["AttributeName"], a["AttributeType"]) for a in definitions}


@pytest.mark.parametrize("spec", TABLES, ids=lambda spec: spec.suffix)
def test_table_has_the_models_key_schema_and_indexes(synth: Synth, spec: TableSpec) -> None:
    model_schema: dict[str, Any] = spec.model._get_schema()
    _, table = synth.table(spec.suffix)
    props = table["Properties"]

    assert _keys(props["KeySchema"]) == _keys(model_schema["key_schema"])
    assert _attributes(props["AttributeDefinitions"]) == _attributes(
        model_schema["attribute_definitions"]
    )
    declared = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
    expected = {g["index_name"]: g for g in model_schema["global_secondary_indexes"]}
    assert declared.keys() == expected.keys()
    for name, index in expected.items():
        assert _keys(declared[name]["KeySchema"]) == _keys(index["key_schema"])
        assert (
            declared[name]["Projection"]["ProjectionType"]
            == (index["projection"]["ProjectionType"])
        )
    assert not props.get("LocalSecondaryIndexes") and not model_schema["local_secondary_indexes"]


@pytest.mark.parametrize("spec", TABLES, ids=lambda spec: spec.suffix)
def test_table_is_on_demand_encrypted_recoverable_and_retained(
    synth: Synth, spec: TableSpec
) -> None:
    (key_id,) = [k for k in synth.of_type("AWS::KMS::Key") if k.startswith("SecurityDataKey")]
    _, table = synth.table(spec.suffix)
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"] == {
        "KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
        "SSEEnabled": True,
        "SSEType": "KMS",
    }
    assert table["DeletionPolicy"] == "Retain"
    assert props["DeletionProtectionEnabled"] is True


@pytest.mark.parametrize("spec", TABLES, ids=lambda spec: spec.suffix)
def test_ttl_is_the_models_ttl_attribute(synth: Synth, spec: TableSpec) -> None:
    ttl = [a.attr_name for a in spec.model.get_attributes().values() if isinstance(a, TTLAttribute)]
    _, table = synth.table(spec.suffix)
    declared = table["Properties"].get("TimeToLiveSpecification")
    if ttl:
        assert declared == {"AttributeName": ttl[0], "Enabled": True}
    else:
        assert declared is None


def test_idempotency_expires_on_expiration(synth: Synth) -> None:
    _, table = synth.table("idempotency")
    assert table["Properties"]["TimeToLiveSpecification"]["AttributeName"] == "expiration"


def test_data_key_rotates_and_is_retained(synth: Synth) -> None:
    keys = {k: r for k, r in synth.of_type("AWS::KMS::Key").items() if "DataKey" in k}
    assert len(keys) == 1
    (key,) = keys.values()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
