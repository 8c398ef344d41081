"""DynamoDB tables declared from the pynamodb models' own schema: key attributes, indexes and the
TTL attribute are read from the models, never restated here."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct
from pynamodb.attributes import TTLAttribute
from pynamodb.models import Model

from infra.tables import TABLES, TableSpec

_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}


@dataclass(frozen=True)
class IndexSchema:
    name: str
    partition_key: str
    sort_key: str | None
    projection: str
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSchema:
    attribute_types: dict[str, str]
    partition_key: str
    sort_key: str | None
    indexes: tuple[IndexSchema, ...]
    ttl_attribute: str | None


def _keys(key_schema: list[dict[str, str]]) -> tuple[str, str | None]:
    by_type = {k["KeyType"]: k["AttributeName"] for k in key_schema}
    return by_type["HASH"], by_type.get("RANGE")


def table_schema(model: type[Model]) -> TableSchema:
    """The model's table as pynamodb itself would create it (Model._get_schema)."""
    schema = model._get_schema()
    types = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
    partition, sort = _keys(schema["key_schema"])
    if schema["local_secondary_indexes"]:
        raise NotImplementedError("local secondary indexes are not declared yet")
    indexes = []
    for index in schema["global_secondary_indexes"]:
        index_partition, index_sort = _keys(index["key_schema"])
        projection = index["projection"]
        indexes.append(
            IndexSchema(
                name=index["index_name"],
                partition_key=index_partition,
                sort_key=index_sort,
                projection=projection["ProjectionType"],
                non_key_attributes=tuple(projection.get("NonKeyAttributes", ())),
            )
        )
    ttl = [
        attribute.attr_name
        for attribute in model.get_attributes().values()
        if isinstance(attribute, TTLAttribute)
    ]
    return TableSchema(types, partition, sort, tuple(indexes), ttl[0] if ttl else None)


def _attribute(schema: TableSchema, name: str | None) -> dynamodb.Attribute | None:
    if name is None:
        return None
    return dynamodb.Attribute(name=name, type=_TYPES[schema.attribute_types[name]])


@dataclass(frozen=True)
class DeclaredTable:
    spec: TableSpec
    schema: TableSchema
    table: dynamodb.Table


class Tables(Construct):
    """Every table of infra/tables.py: on demand, point-in-time recovery, the stack's key."""

    def __init__(self, scope: Construct, id: str, *, prefix: str, key: kms.IKey) -> None:
        super().__init__(scope, id)
        self.by_suffix: dict[str, DeclaredTable] = {}
        for spec in TABLES:
            schema = table_schema(spec.model)
            table = dynamodb.Table(
                self,
                spec.suffix.capitalize(),
                table_name=f"{prefix}-{spec.suffix}",
                partition_key=_attribute(schema, schema.partition_key),  # type: ignore[arg-type]
                sort_key=_attribute(schema, schema.sort_key),
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
                encryption_key=key,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                time_to_live_attribute=schema.ttl_attribute,
                deletion_protection=True,
                # The audit trail and the suppression index must outlive any stack.
                removal_policy=RemovalPolicy.RETAIN,
            )
            for index in schema.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=_attribute(schema, index.partition_key),  # type: ignore[arg-type]
                    sort_key=_attribute(schema, index.sort_key),
                    projection_type=_PROJECTIONS[index.projection],
                    non_key_attributes=list(index.non_key_attributes) or None,
                )
            self.by_suffix[spec.suffix] = DeclaredTable(spec, schema, table)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.by_suffix.values())

    def __getitem__(self, suffix: str) -> DeclaredTable:
        return self.by_suffix[suffix]
