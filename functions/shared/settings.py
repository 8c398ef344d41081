"""Typed settings, one model per function, read from the environment at cold start.

There are no default table names: a missing variable fails the cold start with a clear message
instead of writing to a table nobody meant."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, Json, ValidationError, field_validator


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        environ = os.environ if environ is None else environ
        values = {
            name: environ[name.upper()] for name in cls.model_fields if name.upper() in environ
        }
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            missing = ", ".join(str(e["loc"][0]).upper() for e in exc.errors())
            raise RuntimeError(f"{cls.__name__}: missing or invalid settings: {missing}") from None


class TableSettings(Settings):
    customers_table: str
    requests_table: str
    audit_table: str
    suppression_table: str
    audit_chain_table: str
    # Every audit entry these functions write is keyed with this KMS HMAC key; every
    # `audit_digest_every` entries the digest function is asked to copy the head out of reach.
    audit_key_id: str
    audit_digest_function: str
    audit_digest_every: int = 100


class HashingSettings(Settings):
    hmac_key_parameter: str
    # The ISO 3166 region national phone numbers are read as (e.g. GB: '07400 123456' is
    # +447400123456), checked against libphonenumber's regions at cold start. Without one only
    # international forms ('+44 ...', '0044 ...') are numbers. It decides hashes: changing it
    # changes how every national form already suppressed is looked up.
    default_region: str | None = None

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        # Imported here: functions without a key (the audit digest, the split's combine step)
        # need not load libphonenumber at cold start.
        from functions.shared.phones import supported_region

        return None if value is None else supported_region(value)


class DrpCallbackSettings(Settings):
    """Authorized agents' status callbacks (functions/drp/callbacks.py) must be https; the local
    stack also lets them be plain http to this machine (its in-test agents listen there)."""

    drp_local_callbacks: bool = False


class WorkflowSettings(TableSettings, HashingSettings, DrpCallbackSettings):
    """What every workflow step needs: the tables it writes and the key it hashes with (and how
    an authorized agent is called back when a step ends its request)."""


class ExportBucketSettings(Settings):
    """Where export files live (written by the export step, signed for download by the API,
    deleted by forget)."""

    exports_bucket: str


class ForgetSettings(WorkflowSettings, ExportBucketSettings):
    """Forget deletes every version of the customer's export files. One invocation makes at most
    `erasure_batches` batch writes (25 items each; about 10 s at DynamoDB's pace, far inside the
    5-minute timeout), then answers CONTINUE and the state machine invokes it again."""

    erasure_batches: int = Field(default=200, ge=1, le=2000)


class ExportSettings(WorkflowSettings, ExportBucketSettings):
    """The export step writes the CSV to the exports bucket."""


class CompletionSettings(WorkflowSettings, ExportBucketSettings):
    """The Finish step announces completions, and signs a fulfilled access request's link for
    the authorized agent's status callback (functions/drp/results.py)."""

    event_bus_name: str


class SubmissionSettings(Settings):
    """What a function that submits privacy requests (the API, a campaign's FORGET outcome)
    starts them with."""

    state_machine_arn: str
    confirmation_timeout_seconds: int = 7 * 24 * 3600
    # The legal deadline of a request: the customer's jurisdiction (their profile's
    # `jurisdiction`, else this default) and its period, e.g. LEGAL_DEADLINES={"CCPA": "P45D"}.
    default_jurisdiction: str = "GDPR"
    legal_deadlines: Json[dict[str, str]] = {"GDPR": "P1M", "UK_GDPR": "P1M", "CCPA": "P45D"}  # type: ignore[assignment]
    # How far each jurisdiction lets the deadline be extended, once, beyond the period above
    # (GDPR Art. 12(3): by two further months; CCPA 1798.130(a)(2): once, by 45 more days). A
    # jurisdiction not named here cannot be extended.
    legal_extensions: Json[dict[str, str]] = {"GDPR": "P2M", "UK_GDPR": "P2M", "CCPA": "P45D"}  # type: ignore[assignment]


class ReceiptKeySettings(Settings):
    """The KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs every clean audience file's receipt:
    the screening functions sign with it, the API hands out its public key."""

    receipt_key_id: str


class ApiSettings(
    WorkflowSettings,
    ExportBucketSettings,
    SubmissionSettings,
    ReceiptKeySettings,
):
    idempotency_table: str
    idempotency_window_seconds: int = 300
    audit_digest_bucket: str
    # Audience screening routes (optional: the API works without them, those routes answer 503).
    audiences_bucket: str | None = None
    audience_filter_function: str | None = None
    # Consent changes are announced on this bus (optional: without it none are announced).
    event_bus_name: str | None = None
    # How long a double opt-in confirmation token stays valid.
    consent_confirmation_seconds: int = 72 * 3600
    # Re-permission campaigns (optional: without it those routes answer 503).
    campaign_state_machine_arn: str | None = None
    # Swagger UI at /docs: the local stack only (the deployed API does not route /docs).
    api_docs_ui: bool = False
    # The preference centre's topics, without a brand and per brand (functions/consents/
    # preferences.py; the default is the demo data's).
    preference_topics: str = '{"topics": ["newsletter", "offers"], "brands": {}}'
    # Global Privacy Control (Sec-GPC: 1 on a public request with a valid link): the topic that
    # stands for sale and sharing, opted out of by e-mail. Empty: GPC is not honoured.
    gpc_topic: str = ""
    # How long a preference centre link (functions/consents/preference_links.py) stays valid.
    preference_link_seconds: int = Field(default=24 * 3600, ge=60, le=30 * 24 * 3600)
    # The address customers reach the public routes at (List-Unsubscribe URLs); without it, the
    # address the request that asks for a link came in at.
    public_api_url: str | None = None
    # The Data Rights Protocol (functions/drp): this business's id in the DRP network, as agents
    # put it in `business-id`. Empty: the DRP routes answer 503.
    drp_business_id: str = ""
    # The least time a public route whose work depends on whether an address is a customer's
    # (asking for a link, signing up) takes to answer (functions/shared/steady.py).
    public_answer_floor_ms: int = Field(default=300, ge=0, le=5000)


class AuditDigestSettings(Settings):
    """The digest copies the chain's head: it reads the head item, nothing else."""

    audit_chain_table: str
    audit_digest_bucket: str


class DeadlineCheckSettings(WorkflowSettings):
    # A request this close to its deadline is reported as near it.
    deadline_warning_days: int = 7


class AudienceFilterSettings(HashingSettings, ReceiptKeySettings):
    suppression_table: str
    audiences_bucket: str
    # Prefixes the EventBridge schedule sweeps, comma-separated (e.g. "incoming/daily/").
    scheduled_prefixes: str = ""
    # The identifier columns of every file dropped under incoming/ or swept by the schedule, as
    # JSON (kind -> column). The file's own metadata never chooses them (issue 16): every file
    # the bucket hands over must have these columns, or its job fails before writing.
    identifier_columns: str = '{"customerId": "customer_id", "email": "email"}'
    # Files above the threshold go to the split state machine (README, "Audience filter"): one
    # invocation screens up to about 3 GB within its 15 minutes and 10 GB of /tmp. The machine
    # screens up to `split_max_concurrency` parts at once.
    audience_split_state_machine_arn: str
    split_threshold_bytes: int = 3_000_000_000
    split_max_concurrency: int = 100


class AudienceSplitSettings(HashingSettings):
    """The split path's plan and part steps: the index snapshot, the file, the screening."""

    suppression_table: str
    audiences_bucket: str
    # About how large each part is (the plan cuts on record boundaries).
    split_part_bytes: int = 1_000_000_000


class AudienceCombineSettings(ReceiptKeySettings):
    """The split path's last step joins files, signs the receipt and writes records: no
    table."""

    audiences_bucket: str


class CampaignSettings(WorkflowSettings):
    """The re-permission campaign's steps. Enrolment announces each customer's confirmation
    request on the bus; a REVOKE outcome announces the consent change like any other."""

    event_bus_name: str


class CampaignApplySettings(CampaignSettings, SubmissionSettings):
    """The outcome step: a FORGET outcome submits requests to the privacy-request workflow."""
