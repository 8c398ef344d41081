"""What each function of infra/functions.py may touch, read off its code: the one place that
says so. infra/cdk/lambdas.py turns each entry into the function's own role; a function without
an entry fails the synth (and tests/infra/test_access.py says which one).

Every state change goes through one TransactWriteItems (functions/shared/unit_of_work.py).
IAM checks each item of a transaction against the item action (PutItem,
UpdateItem, DeleteItem, ConditionCheckItem); `_tx` grants carry the `dynamodb:EnclosingOperation`
condition, so those actions are refused outside a transaction. The audit table is written only
that way and only with PutItem (conditioned in code on the entry not existing): no role may update
or delete an audit entry. Table names are the TableSpec suffixes of infra/tables.py; the HMAC key
and the tables' KMS key follow from each function's settings model and need no entry."""

from __future__ import annotations

from dataclasses import dataclass

from functions.audience_filter.jobs import CLEAN, JOBS, SOURCE_PREFIXES, WORK
from functions.audience_filter.uploads import UPLOADS


@dataclass(frozen=True)
class TableAccess:
    table: str  # a TableSpec suffix
    actions: tuple[str, ...]
    # Only inside TransactWriteItems (the state-change transaction).
    in_transaction: bool = False
    # Query on these indexes (then actions must be ("Query",)).
    indexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class BucketAccess:
    bucket: str  # a bucket of infra/cdk/storage.py: "exports" or "audiences"
    prefix: str  # the only keys the function may touch, e.g. "exports/"
    # s3:List* actions apply to the bucket (limited by s3:prefix), the others to its objects.
    actions: tuple[str, ...]


@dataclass(frozen=True)
class Access:
    tables: tuple[TableAccess, ...] = ()
    buckets: tuple[BucketAccess, ...] = ()
    start_execution: bool = False
    # SendTaskSuccess / SendTaskFailure on the workflow's callback tokens.
    answer_tasks: bool = False
    put_events: bool = False
    # Asynchronous invocations (each gets a dead-letter queue): a bucket's new objects under
    # `notified_by` ("audiences/incoming/"); schedules are FunctionSpec.schedule's.
    notified_by: str | None = None
    # Functions it invokes asynchronously (by FunctionSpec name).
    invokes: tuple[str, ...] = ()
    # StartExecution on the audience split state machine (files beyond one invocation).
    starts_audience_split: bool = False
    # StartExecution of the re-permission campaign's state machine (start and resume).
    start_campaigns: bool = False
    # The screening receipts' KMS key: "sign" (kms:Sign: the functions that write clean files)
    # or "public-key" (kms:GetPublicKey: hands out what verifies receipts). Nothing else on it.
    receipts: str | None = None


def _read(table: str, *extra: str) -> TableAccess:
    return TableAccess(table, ("GetItem", *extra))


def _tx(table: str, *actions: str) -> TableAccess:
    return TableAccess(table, actions, in_transaction=True)


def _index(table: str, index: str) -> TableAccess:
    return TableAccess(table, ("Query",), indexes=(index,))


# Every state change appends its audit entry (the unit of work); one that ends a request
# releases the customer's open-request marker (a DeleteItem of the OPENREQ# item, in the same
# transaction).
_AUDIT = _tx("audit", "PutItem")
# ... and advances the audit chain's head (read, then moved in that same transaction).
_CHAIN = (_read("audit-chain"), _tx("audit-chain", "PutItem"))
_RELEASE_MARKER = _tx("customers", "DeleteItem")
# Cease and resume: the PRIVACY item's status, conditioned on the profile still existing.
_STATUS_CHANGE = _tx("customers", "UpdateItem", "ConditionCheckItem", "DeleteItem")

ACCESS: dict[str, Access] = {
    # Submit, confirm, cancel; privacy status, permissions and request reads.
    "Api": Access(
        tables=(
            _read("customers", "Query"),
            # POST /public/preferences/link: whose profile the e-mail's keyed hash is.
            _index("customers", "byEmailHash"),
            # DRP: whose profile an agent's verified e-mail or phone is (functions/drp).
            _index("customers", "byPhoneHash"),
            # create(): the open-request marker and the profile check; a cancel (or a workflow
            # that did not start) ends the request and releases the marker.
            _tx("customers", "PutItem", "ConditionCheckItem", "DeleteItem", "UpdateItem"),
            _read("requests"),
            # GET /privacy-requests: the queue's index of its filters (functions/requests/queue.py).
            TableAccess(
                "requests",
                ("Query",),
                indexes=("byCustomer", "bySubmitter", "byStatus", "byType"),
            ),
            _tx("requests", "PutItem", "UpdateItem"),
            _AUDIT,
            *_CHAIN,
            TableAccess(
                "audit",
                ("Query",),
                indexes=(
                    "byRequest",
                    "byCustomer",
                    "byEventType",
                    "byRequestType",
                    "byActor",
                    "byTime",
                ),
            ),
            TableAccess("audit", ("Scan",)),
            # A consent change: the topic's OPTED_OUT entries added on an opt-out; on an opt-in,
            # the person's own ones found through bySubject and lifted (in the consent's
            # transaction, with its history and token items: PutItem on customers, above).
            _index("suppression", "bySubject"),
            _tx("suppression", "PutItem", "DeleteItem"),
            # Powertools idempotency records: DeleteItem only when the call failed, so that the
            # client may retry.
            TableAccess("idempotency", ("GetItem", "PutItem", "UpdateItem", "DeleteItem")),
        ),
        # GET /audit: a query through the index of its filter; GET /audit/verify: the whole
        # trail by parallel scan, checked against the chain head and the locked digests.
        # Signs each completed export's 15-minute download link (GetObject of that version).
        buckets=(
            BucketAccess("exports", "exports/", ("GetObject", "GetObjectVersion")),
            BucketAccess("audit-digests", "audit-digests/", ("ListBucket", "GetObject")),
            # POST /audiences/filter checks the source file and queues the job's record under
            # jobs/; GET /audiences/filter/{jobId} reads it. The screening itself is not its job.
            *(BucketAccess("audiences", p, ("GetObject",)) for p in (*SOURCE_PREFIXES, JOBS)),
            BucketAccess("audiences", JOBS, ("PutObject",)),
            # ... and refuses a destination that exists (409): by listing the key, without
            # reading any clean file.
            BucketAccess("audiences", CLEAN, ("ListBucket",)),
            # privacyctl filter through the API alone (functions/audience_filter/uploads.py): a
            # presigned PUT of requests/<uploadId>/... (signed with this role, so PutObject
            # there), presigned GETs of its clean copy and report, and removing every version of
            # exactly those once the client is done (their own upload; no other prefix).
            BucketAccess(
                "audiences",
                UPLOADS,
                ("PutObject", "ListBucketVersions", "DeleteObject", "DeleteObjectVersion"),
            ),
            BucketAccess(
                "audiences",
                CLEAN + UPLOADS,
                ("GetObject", "ListBucketVersions", "DeleteObject", "DeleteObjectVersion"),
            ),
        ),
        invokes=("AudienceFilter",),
        # GET /audiences/receipt-key.
        receipts="public-key",
        start_execution=True,
        # POST /repermission-campaigns and .../resume; the campaign's state changes go through
        # the customers table's transactions above (UpdateItem added for them).
        start_campaigns=True,
        answer_tasks=True,
        # Consent changes (PUT .../consents/{topic}, POST /public/consents/confirm) are announced,
        # and a double opt-in's ConsentConfirmationRequested message is sent.
        put_events=True,
    ),
    # Re-checks the request; one that can no longer succeed ends REJECTED.
    "Validate": Access(
        tables=(
            _read("customers"),
            _read("requests"),
            _tx("requests", "UpdateItem"),
            _RELEASE_MARKER,
            _AUDIT,
            *_CHAIN,
        ),
    ),
    # Keeps the task token on the request (a plain conditional UpdateItem, no state change) and
    # answers the token itself when the agent was faster.
    "AwaitConfirmation": Access(
        tables=(TableAccess("requests", ("UpdateItem",)),),
        answer_tasks=True,
    ),
    "Cease": Access(
        tables=(
            _read("customers"),
            _STATUS_CHANGE,
            _read("requests"),
            _tx("requests", "UpdateItem"),
            _tx("suppression", "PutItem"),
            _AUDIT,
            *_CHAIN,
        ),
    ),
    "Resume": Access(
        tables=(
            _read("customers"),
            _STATUS_CHANGE,
            _read("requests"),
            _tx("requests", "UpdateItem"),
            # Lifts exactly the entries this customer's cease made (found through bySubject).
            _index("suppression", "bySubject"),
            _tx("suppression", "DeleteItem"),
            _AUDIT,
            *_CHAIN,
        ),
    ),
    # The only function that erases customer data: the partition in batches, relations pointing
    # at the person, superseded suppression entries and every version of their export files.
    "Forget": Access(
        tables=(
            _read("customers", "Query", "DeleteItem", "BatchWriteItem"),
            # The keyed-hash tombstones (the requester's and each cascaded contact's), written
            # first with the clear id that erasure needs, then updated without it; the marker.
            _tx("customers", "PutItem", "UpdateItem", "DeleteItem"),
            # The erasure plan on the request; earlier requests' personal fields pseudonymised.
            _read("requests", "UpdateItem"),
            _index("requests", "byCustomer"),
            _tx("requests", "UpdateItem"),
            # FORGOTTEN entries in the keep-out transaction, then the superseded CEASED /
            # OPTED_OUT ones removed in batches.
            _tx("suppression", "PutItem"),
            TableAccess("suppression", ("BatchWriteItem",)),
            _index("suppression", "bySubject"),
            _AUDIT,
            *_CHAIN,
        ),
        buckets=(
            BucketAccess(
                "exports", "exports/", ("ListBucketVersions", "DeleteObject", "DeleteObjectVersion")
            ),
        ),
    ),
    # Streams the member's partition and own requests into one CSV (a multipart upload under
    # exports/<requestId>/); deletes it again if the member was forgotten while it was written.
    "Export": Access(
        tables=(
            _read("customers", "Query"),
            _read("requests", "UpdateItem"),
            _index("requests", "byCustomer"),
            _tx("requests", "UpdateItem"),
            _RELEASE_MARKER,
            _AUDIT,
            *_CHAIN,
        ),
        buckets=(
            BucketAccess(
                "exports",
                "exports/",
                (
                    "PutObject",
                    "AbortMultipartUpload",
                    "ListBucketVersions",
                    "DeleteObject",
                    "DeleteObjectVersion",
                ),
            ),
        ),
    ),
    # Scheduled: writes the chain head's digest, locked, to the audit-digests bucket.
    "AuditDigest": Access(
        tables=(_read("audit-chain"),),
        buckets=(BucketAccess("audit-digests", "audit-digests/", ("PutObject",)),),
    ),
    # Scheduled (daily): open requests past or near their legal deadline, audited once each.
    "DeadlineCheck": Access(
        tables=(
            _index("requests", "openByDeadline"),
            _tx("requests", "ConditionCheckItem"),
            _AUDIT,
            *_CHAIN,
        ),
    ),
    # Screens audience files against a bulk snapshot of the suppression index: reads
    # files under the source prefixes, writes screened files and reports under clean/ and its
    # job records under jobs/. Never touches
    # customers, requests or the audit trail.
    "AudienceFilter": Access(
        tables=(TableAccess("suppression", ("Scan",)),),
        buckets=(
            *(BucketAccess("audiences", p, ("ListBucket", "GetObject")) for p in SOURCE_PREFIXES),
            # Clean files, reports and receipts are written conditionally: HeadObject (GetObject)
            # finds which job wrote an existing one (functions/audience_filter/files.py).
            BucketAccess("audiences", CLEAN, ("GetObject", "PutObject")),
            BucketAccess("audiences", JOBS, ("GetObject", "PutObject")),
        ),
        receipts="sign",
        notified_by="audiences/incoming/",
        # Files above SPLIT_THRESHOLD_BYTES are handed to the split state machine instead.
        starts_audience_split=True,
    ),
    # The re-permission campaign's bookkeeping steps: the campaign item in the customers table
    # (read; page counts by conditional UpdateItem; its state changes, audited, in a
    # transaction) and the deletion of its own ENROL# items once a page is dealt with.
    "CampaignProgress": Access(
        tables=(
            _read("customers", "UpdateItem", "Query", "BatchWriteItem"),
            _tx("customers", "UpdateItem"),
            _AUDIT,
            *_CHAIN,
        ),
    ),
    # Scans the customers table for the topic's consent holders; writes each one's ENROL# item
    # and confirmation token (BatchWriteItem, after BatchGetItem finds those written already);
    # announces each confirmation request.
    "CampaignEnrol": Access(
        tables=(
            _read("customers", "Scan", "BatchGetItem", "UpdateItem", "BatchWriteItem"),
            _tx("customers", "UpdateItem"),
            _AUDIT,
            *_CHAIN,
        ),
        put_events=True,
    ),
    # The outcome for each non-confirmer: REVOKE records the opt-out through the consent change
    # (consent, history, OPTED_OUT:<topic> entries, audit: one transaction; announced); FORGET
    # submits and confirms a request (its transactions) and starts its privacy-request workflow.
    "CampaignApply": Access(
        tables=(
            _read("customers", "Query"),
            _tx("customers", "PutItem", "ConditionCheckItem"),
            _read("requests"),
            _tx("requests", "PutItem", "UpdateItem"),
            _tx("suppression", "PutItem"),
            _AUDIT,
            *_CHAIN,
        ),
        start_execution=True,
        put_events=True,
    ),
    # Closes the request (COMPLETED, EXPIRED, FAILED), announces a completion and, for FORGET,
    # pseudonymises the request itself.
    "Finish": Access(
        tables=(
            # An authorized agent's request item (drp-request:<id>), for its status callback;
            # and a forget's tombstone (customers.erasing) at its completion.
            _read("customers"),
            _read("requests", "UpdateItem"),
            _tx("requests", "UpdateItem"),
            _RELEASE_MARKER,
            _AUDIT,
            *_CHAIN,
        ),
        # A fulfilled access request's results_url in its agent's status callback: a presigned
        # link to exactly the export's version (functions/drp/results.py).
        buckets=(BucketAccess("exports", "exports/", ("GetObject", "GetObjectVersion")),),
        put_events=True,
    ),
    # The audience split path (infra/statemachine/audience_split.asl.json). Plan: the index
    # snapshot (bulk scan, hash and reason only) and the part list; reads the source, writes the
    # snapshot and a gzip source's plain copy under work/.
    "AudiencePlan": Access(
        tables=(TableAccess("suppression", ("Scan",)),),
        buckets=(
            *(BucketAccess("audiences", p, ("GetObject",)) for p in SOURCE_PREFIXES),
            BucketAccess("audiences", WORK, ("GetObject", "PutObject", "AbortMultipartUpload")),
        ),
    ),
    # One part: its byte range of the source (or the plain copy), the snapshot; writes its
    # screened bytes and counts under work/. No table: the snapshot is its view of the index.
    "AudienceScreenPart": Access(
        buckets=(
            *(BucketAccess("audiences", p, ("GetObject",)) for p in SOURCE_PREFIXES),
            BucketAccess("audiences", WORK, ("GetObject", "PutObject", "AbortMultipartUpload")),
        ),
    ),
    # Joins the parts into the clean file (a conditional multipart upload, copied from work/,
    # aborted on failure), signs the receipt, writes it and the report beside it and finishes
    # the job record.
    "AudienceCombine": Access(
        buckets=(
            BucketAccess("audiences", WORK, ("GetObject",)),
            BucketAccess("audiences", CLEAN, ("GetObject", "PutObject", "AbortMultipartUpload")),
            BucketAccess("audiences", JOBS, ("GetObject", "PutObject")),
        ),
        receipts="sign",
    ),
}
