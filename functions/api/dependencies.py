"""What the API function is built with, from its settings, once per cold start. Capabilities a
deployment may leave out (audience screening, campaigns, the event bus) are stand-ins that
answer 503 or log, never None."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from functions.audience_filter.files import AudienceFiles, ScreeningQueue
from functions.audience_filter.queue import NoScreening, Screening
from functions.audience_filter.receipt_key import ReceiptKey
from functions.audit.digests import DigestStore
from functions.audit.repository import AuditRepository
from functions.campaigns.repository import CampaignRepository
from functions.campaigns.workflow import CampaignStarter, CampaignWorkflow, NoCampaignWorkflow
from functions.consents.preference_links import LinkRepository, PreferenceLinks
from functions.consents.preferences import PreferenceTopics
from functions.consents.repository import ConsentRepository
from functions.consents.signup import SignUps, SignUpSeal
from functions.drp.callbacks import AgentCallbacks, HttpCallbacks
from functions.drp.repository import DrpRepository
from functions.drp.service import DrpConfig
from functions.export.files import ExportFiles
from functions.requests.dependencies import Stores, tables_of
from functions.requests.factory import SubmissionPolicy
from functions.requests.workflow import RequestWorkflow
from functions.shared.audit_chain import EntryMacs
from functions.shared.audit_keys import KmsEntryMacs
from functions.shared.events import EventPublisher, NoEventBus, Publisher
from functions.shared.keys import load_hasher
from functions.shared.settings import ApiSettings
from functions.shared.unit_of_work import AuditChain


@dataclass
class ApiDependencies(Stores):
    workflow: RequestWorkflow
    policy: SubmissionPolicy
    consents: ConsentRepository
    campaigns: CampaignRepository
    campaign_workflow: CampaignStarter
    events: Publisher
    audit: AuditRepository
    digests: DigestStore
    macs: EntryMacs
    exports: ExportFiles
    screening: Screening | NoScreening
    idempotency: DynamoDBPersistenceLayer
    idempotency_window_seconds: int
    consent_confirmation_seconds: int
    links: PreferenceLinks
    link_lookup: LinkRepository
    preference_topics: PreferenceTopics
    public_api_url: str | None
    gpc_topic: str | None
    # Authorized agents (functions/drp): their items, the business's DRP settings, callbacks.
    drp: DrpRepository
    drp_config: DrpConfig
    agents: AgentCallbacks
    sign_up_seal: SignUpSeal
    sign_ups: SignUps
    public_answer_floor_seconds: float

    @classmethod
    def of(cls, settings: ApiSettings) -> ApiDependencies:
        tables = tables_of(settings)
        screening: Screening | NoScreening = NoScreening()
        if settings.audiences_bucket and settings.audience_filter_function:
            screening = Screening(
                AudienceFiles(settings.audiences_bucket),
                ScreeningQueue(settings.audience_filter_function),
                ReceiptKey(settings.receipt_key_id),
            )
        hasher = load_hasher(settings)
        drp = DrpRepository(tables.customers)
        return cls.build(
            settings,
            drp=drp,
            drp_config=DrpConfig(
                business_id=settings.drp_business_id,
                sale_topic=settings.gpc_topic or None,
                allow_local_callbacks=settings.drp_local_callbacks,
            ),
            agents=AgentCallbacks(drp, HttpCallbacks(settings.drp_local_callbacks)),
            links=PreferenceLinks(hasher, settings.preference_link_seconds),
            link_lookup=LinkRepository(tables.customers),
            preference_topics=PreferenceTopics.parse(settings.preference_topics),
            public_api_url=settings.public_api_url,
            gpc_topic=settings.gpc_topic or None,
            sign_up_seal=SignUpSeal(hasher, settings.preference_link_seconds),
            sign_ups=SignUps(tables.customers, hasher),
            public_answer_floor_seconds=settings.public_answer_floor_ms / 1000,
            workflow=RequestWorkflow(settings.state_machine_arn),
            policy=SubmissionPolicy.of(settings),
            consents=ConsentRepository(tables.customers),
            campaigns=CampaignRepository(tables.customers),
            campaign_workflow=(
                CampaignWorkflow(arn)
                if (arn := settings.campaign_state_machine_arn)
                else NoCampaignWorkflow()
            ),
            events=(EventPublisher(bus) if (bus := settings.event_bus_name) else NoEventBus()),
            audit=AuditRepository(tables.audit, AuditChain(tables.audit_chain)),
            digests=DigestStore(settings.audit_digest_bucket),
            macs=KmsEntryMacs(settings.audit_key_id),
            exports=ExportFiles(settings.exports_bucket),
            screening=screening,
            idempotency=DynamoDBPersistenceLayer(table_name=settings.idempotency_table),
            idempotency_window_seconds=settings.idempotency_window_seconds,
            consent_confirmation_seconds=settings.consent_confirmation_seconds,
        )


_override: list[ApiDependencies] = []


@cache
def _built() -> ApiDependencies:
    return ApiDependencies.of(ApiSettings.from_env())


def api_dependencies() -> ApiDependencies:
    """Built on the first request (the cold start); a test may `use` its own."""
    return _override[-1] if _override else _built()


def use(deps: ApiDependencies | None) -> None:
    _override.clear()
    if deps is not None:
        _override.append(deps)
