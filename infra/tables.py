"""The tables of the stack, from the pynamodb models: the local stack creates them with pynamodb
and CDK declares them from the same key schema and indexes."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.models import Model

from functions.shared.models import (
    AuditChainItem,
    AuditEntryItem,
    CustomerItem,
    IdempotencyRecord,
    PrivacyRequestItem,
    SuppressionItem,
    bind,
)


@dataclass(frozen=True)
class TableSpec:
    model: type[Model]
    suffix: str
    env_var: str

    def bound(self, table_name: str) -> type[Model]:
        return bind(self.model, table_name)


TABLES: tuple[TableSpec, ...] = (
    TableSpec(CustomerItem, "customers", "CUSTOMERS_TABLE"),
    TableSpec(PrivacyRequestItem, "requests", "REQUESTS_TABLE"),
    TableSpec(AuditEntryItem, "audit", "AUDIT_TABLE"),
    TableSpec(SuppressionItem, "suppression", "SUPPRESSION_TABLE"),
    TableSpec(IdempotencyRecord, "idempotency", "IDEMPOTENCY_TABLE"),
    TableSpec(AuditChainItem, "audit-chain", "AUDIT_CHAIN_TABLE"),
)
