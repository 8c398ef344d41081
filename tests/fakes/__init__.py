"""In-memory fakes of the repositories and of the unit of work, for fast unit tests of the
services' rules (no moto, no network). `fake_stores()` answers one object with every attribute
the services' dependency Protocols name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from functions.requests.factory import SubmissionPolicy
from functions.shared.identifiers import KeyedHasher

from .stores import (
    CustomersTable,
    FakeAudit,
    FakeCampaigns,
    FakeCampaignWorkflow,
    FakeConsents,
    FakeCustomers,
    FakeDigests,
    FakeEvents,
    FakeExportFiles,
    FakeRequests,
    FakeSuppression,
    FakeWorkflow,
    Item,
)
from .work import AuditTrail, FakeUnitOfWork, FakeUnitsOfWork, MemoryWrite, stored_entry

__all__ = [
    "AuditTrail",
    "CustomersTable",
    "FakeAudit",
    "FakeCampaignWorkflow",
    "FakeCampaigns",
    "FakeConsents",
    "FakeCustomers",
    "FakeDigests",
    "FakeEvents",
    "FakeExportFiles",
    "FakeRequests",
    "FakeStores",
    "FakeSuppression",
    "FakeUnitOfWork",
    "FakeUnitsOfWork",
    "FakeWorkflow",
    "Item",
    "MemoryWrite",
    "fail_once",
    "fake_stores",
    "stored_entry",
]

HASH_KEY = b"k" * 32


@dataclass
class FakeStores:
    hasher: KeyedHasher
    policy: SubmissionPolicy
    table: CustomersTable
    customers: FakeCustomers
    requests: FakeRequests
    suppression: FakeSuppression
    consents: FakeConsents
    campaigns: FakeCampaigns
    exports: FakeExportFiles
    workflow: FakeWorkflow
    campaign_workflow: FakeCampaignWorkflow
    events: FakeEvents
    units: FakeUnitsOfWork
    audit: FakeAudit
    digests: FakeDigests = field(default_factory=FakeDigests)

    @property
    def trail(self) -> AuditTrail:
        return self.units.trail

    def work(self) -> FakeUnitOfWork:
        return self.units()


def fake_stores(
    *, confirmation_timeout_seconds: int = 3600, policy: SubmissionPolicy | None = None
) -> FakeStores:
    hasher = KeyedHasher(HASH_KEY)
    table = CustomersTable()
    units = FakeUnitsOfWork()
    return FakeStores(
        hasher=hasher,
        policy=policy or SubmissionPolicy(confirmation_timeout_seconds),
        table=table,
        customers=FakeCustomers(table, hasher),
        requests=FakeRequests(),
        suppression=FakeSuppression(),
        consents=FakeConsents(table),
        campaigns=FakeCampaigns(table),
        exports=FakeExportFiles(),
        workflow=FakeWorkflow(),
        campaign_workflow=FakeCampaignWorkflow(),
        events=FakeEvents(),
        units=units,
        audit=FakeAudit(units.trail),
    )


def fail_once(target: Any, name: str, exc: Exception, *, after: int = 0) -> Callable[..., Any]:
    """Make `target.name` raise `exc` on its call number `after + 1`, and behave otherwise."""
    original = getattr(target, name)
    calls = 0

    def failing(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == after + 1:
            raise exc
        return original(*args, **kwargs)

    setattr(target, name, failing)
    return failing
