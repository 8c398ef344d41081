"""What the campaign's functions are built with, from their settings, once per cold start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from functions.campaigns.repository import CampaignRepository
from functions.consents.repository import ConsentRepository
from functions.requests.dependencies import Stores, tables_of
from functions.requests.factory import SubmissionPolicy
from functions.requests.workflow import RequestWorkflow
from functions.shared.customers import CustomerRepository
from functions.shared.events import EventPublisher, Publisher
from functions.shared.identifiers import KeyedHasher
from functions.shared.keys import load_hasher
from functions.shared.settings import CampaignApplySettings, CampaignSettings, TableSettings
from functions.shared.unit_of_work import AuditChain, UnitOfWork, UnitsOfWork


@dataclass
class CampaignBase:
    """The campaign's own item and the audit chain its state changes join."""

    campaigns: CampaignRepository
    work: Callable[[], UnitOfWork]

    @classmethod
    def of(cls, settings: TableSettings) -> CampaignBase:
        tables = tables_of(settings)
        return cls(
            campaigns=CampaignRepository(tables.customers),
            work=UnitsOfWork(tables.audit, AuditChain(tables.audit_chain)),
        )


@dataclass
class EnrolDependencies:
    campaigns: CampaignRepository
    work: Callable[[], UnitOfWork]
    hasher: KeyedHasher
    customers: CustomerRepository
    events: Publisher

    @classmethod
    def of(cls, settings: CampaignSettings) -> EnrolDependencies:
        base = CampaignBase.of(settings)
        hasher = load_hasher(settings)
        return cls(
            campaigns=base.campaigns,
            work=base.work,
            hasher=hasher,
            customers=CustomerRepository(tables_of(settings).customers, hasher),
            events=EventPublisher(settings.event_bus_name),
        )


@dataclass
class OutcomeDependencies(Stores):
    campaigns: CampaignRepository
    consents: ConsentRepository
    events: Publisher
    workflow: RequestWorkflow
    policy: SubmissionPolicy

    @classmethod
    def of(cls, settings: CampaignApplySettings) -> OutcomeDependencies:
        customers = tables_of(settings).customers
        return cls.build(
            settings,
            campaigns=CampaignRepository(customers),
            consents=ConsentRepository(customers),
            events=EventPublisher(settings.event_bus_name),
            workflow=RequestWorkflow(settings.state_machine_arn),
            policy=SubmissionPolicy.of(settings),
        )
