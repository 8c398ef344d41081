"""Repositories: the only code that touches pynamodb or boto3's DynamoDB client."""

from __future__ import annotations

from dataclasses import dataclass

from functions.shared.identifiers import KeyedHasher
from functions.shared.models import (
    AuditChainItem,
    AuditEntryItem,
    CustomerItem,
    PrivacyRequestItem,
    SuppressionItem,
    bind,
)
from functions.shared.repositories.audit import AuditRepository
from functions.shared.repositories.audit_chain import AuditChain
from functions.shared.repositories.campaigns import CampaignRepository
from functions.shared.repositories.consents import ConsentRepository
from functions.shared.repositories.customers import CustomerRepository
from functions.shared.repositories.requests import RequestRepository
from functions.shared.repositories.suppression import SuppressionRepository
from functions.shared.repositories.transitions import Tables, Transitions
from functions.shared.settings import TableSettings


@dataclass(frozen=True)
class Repositories:
    customers: CustomerRepository
    requests: RequestRepository
    suppression: SuppressionRepository
    transitions: Transitions
    audit: AuditRepository
    consents: ConsentRepository
    campaigns: CampaignRepository


def tables_for(settings: TableSettings) -> Tables:
    return Tables(
        customers=bind(CustomerItem, settings.customers_table),
        requests=bind(PrivacyRequestItem, settings.requests_table),
        audit=bind(AuditEntryItem, settings.audit_table),
        suppression=bind(SuppressionItem, settings.suppression_table),
        audit_chain=bind(AuditChainItem, settings.audit_chain_table),
    )


def build_repositories(settings: TableSettings, hasher: KeyedHasher) -> Repositories:
    tables = tables_for(settings)
    transitions = Transitions(tables, hasher)
    return Repositories(
        customers=CustomerRepository(tables.customers, hasher),
        requests=RequestRepository(tables.requests),
        suppression=SuppressionRepository(tables.suppression),
        transitions=transitions,
        audit=AuditRepository(tables.audit, transitions.audit_chain),
        consents=ConsentRepository(tables.customers),
        campaigns=CampaignRepository(tables.customers),
    )


def audit_chain_for(settings: TableSettings) -> AuditChain:
    return AuditChain(tables_for(settings).audit_chain)
