"""The fakes keep the real repositories' public methods and parameter names, so that a change to
a repository cannot leave its fake (and the unit tests on it) behind unnoticed."""

import inspect

import pytest

from functions.audit.digests import DigestStore
from functions.audit.repository import AuditRepository
from functions.campaigns.repository import CampaignRepository
from functions.campaigns.workflow import CampaignWorkflow
from functions.consents.repository import ConsentRepository
from functions.export.files import ExportFiles
from functions.requests.repository import RequestRepository
from functions.requests.workflow import RequestWorkflow
from functions.shared.customers import CustomerRepository
from functions.shared.events import EventPublisher
from functions.shared.suppression import SuppressionRepository
from functions.shared.unit_of_work import DynamoUnitOfWork
from tests.fakes import (
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
    FakeUnitOfWork,
    FakeWorkflow,
)

PAIRS = [
    (FakeCustomers, CustomerRepository),
    (FakeRequests, RequestRepository),
    (FakeSuppression, SuppressionRepository),
    (FakeConsents, ConsentRepository),
    (FakeCampaigns, CampaignRepository),
    (FakeExportFiles, ExportFiles),
    (FakeWorkflow, RequestWorkflow),
    (FakeCampaignWorkflow, CampaignWorkflow),
    (FakeEvents, EventPublisher),
    (FakeAudit, AuditRepository),
    (FakeDigests, DigestStore),
    (FakeUnitOfWork, DynamoUnitOfWork),
]


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def parameters(signature: inspect.Signature) -> list[tuple[str, inspect._ParameterKind]]:
    return [(p.name, p.kind) for p in signature.parameters.values()]


@pytest.mark.parametrize(("fake", "real"), PAIRS, ids=lambda c: c.__name__)
def test_the_fake_has_every_public_method_of_the_real_class(fake, real):
    missing = set(public_methods(real)) - set(public_methods(fake))
    assert not missing, f"{fake.__name__} lacks {sorted(missing)}"


@pytest.mark.parametrize(("fake", "real"), PAIRS, ids=lambda c: c.__name__)
def test_each_method_takes_the_same_parameters(fake, real):
    fakes = public_methods(fake)
    for name, signature in public_methods(real).items():
        assert parameters(fakes[name]) == parameters(signature), f"{fake.__name__}.{name}"


@pytest.mark.parametrize(("fake", "real"), PAIRS, ids=lambda c: c.__name__)
def test_defaults_are_the_same(fake, real):
    fakes = public_methods(fake)
    for name, signature in public_methods(real).items():
        defaults = {p.name: p.default for p in signature.parameters.values()}
        assert {p.name: p.default for p in fakes[name].parameters.values()} == defaults
