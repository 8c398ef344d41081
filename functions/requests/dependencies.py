"""What request functions are built with, from their settings, once per cold start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

from functions.drp.callbacks import AgentCallbacks, HttpCallbacks
from functions.drp.repository import DrpRepository
from functions.export.files import ExportFiles
from functions.requests.repository import RequestRepository
from functions.requests.workflow import Callbacks
from functions.shared.audit_keys import DigestMilestones, KmsEntryMacs
from functions.shared.customers import CustomerRepository
from functions.shared.events import EventPublisher, Publisher
from functions.shared.identifiers import KeyedHasher
from functions.shared.keys import load_hasher
from functions.shared.models import Tables
from functions.shared.settings import (
    CompletionSettings,
    ExportSettings,
    ForgetSettings,
    TableSettings,
    WorkflowSettings,
)
from functions.shared.suppression import SuppressionRepository
from functions.shared.unit_of_work import AuditChain, UnitOfWork, UnitsOfWork


def units_of_work(settings: TableSettings, tables: Tables) -> UnitsOfWork:
    """Every write of these functions' tables, its audit entries keyed and anchored."""
    return UnitsOfWork(
        tables.audit,
        AuditChain(tables.audit_chain),
        KmsEntryMacs(settings.audit_key_id),
        DigestMilestones(settings.audit_digest_function, settings.audit_digest_every),
    )


def tables_of(settings: TableSettings) -> Tables:
    return Tables.named(
        customers=settings.customers_table,
        requests=settings.requests_table,
        audit=settings.audit_table,
        suppression=settings.suppression_table,
        audit_chain=settings.audit_chain_table,
    )


@dataclass
class Stores:
    """The tables every step of a request reads and writes, and the key it hashes with."""

    hasher: KeyedHasher
    customers: CustomerRepository
    requests: RequestRepository
    suppression: SuppressionRepository
    work: Callable[[], UnitOfWork]

    @classmethod
    def build(cls, settings: WorkflowSettings, **more: Any) -> Self:
        tables = tables_of(settings)
        hasher = load_hasher(settings)
        return cls(
            hasher=hasher,
            customers=CustomerRepository(tables.customers, hasher),
            requests=RequestRepository(tables.requests),
            suppression=SuppressionRepository(tables.suppression),
            work=units_of_work(settings, tables),
            **more,
        )


@dataclass
class WorkflowStores(Stores):
    """The confirmation step answers the workflow's callback."""

    workflow: Callbacks

    @classmethod
    def from_settings(cls, settings: WorkflowSettings) -> WorkflowStores:
        return cls.build(settings, workflow=Callbacks())


def agent_callbacks(settings: WorkflowSettings) -> AgentCallbacks:
    drp = DrpRepository(tables_of(settings).customers)
    return AgentCallbacks(drp, HttpCallbacks(settings.drp_local_callbacks))


@dataclass
class ValidatingStores(Stores):
    """Validation may reject an authorized agent's request: the agent is told."""

    agents: AgentCallbacks

    @classmethod
    def from_settings(cls, settings: WorkflowSettings) -> ValidatingStores:
        return cls.build(settings, agents=agent_callbacks(settings))


@dataclass
class CompletionStores(Stores):
    """Completion announces requests on the event bus, and tells an authorized agent whose
    request it was (functions/drp/callbacks.py), with its export's link."""

    events: Publisher
    agents: AgentCallbacks
    exports: ExportFiles

    @classmethod
    def from_settings(cls, settings: CompletionSettings) -> CompletionStores:
        return cls.build(
            settings,
            events=EventPublisher(settings.event_bus_name),
            agents=agent_callbacks(settings),
            exports=ExportFiles(settings.exports_bucket),
        )


@dataclass
class ExportingStores(Stores):
    """Export writes the member's file; forget deletes every version of it."""

    exports: ExportFiles

    @classmethod
    def from_settings(cls, settings: ForgetSettings | ExportSettings) -> ExportingStores:
        return cls.build(settings, exports=ExportFiles(settings.exports_bucket))


@dataclass
class ForgetStores(ExportingStores):
    """Forget erases in bounded chunks: this many batch writes per invocation."""

    erasure_batches: int

    @classmethod
    def for_forget(cls, settings: ForgetSettings) -> ForgetStores:
        return cls.build(
            settings,
            exports=ExportFiles(settings.exports_bucket),
            erasure_batches=settings.erasure_batches,
        )
