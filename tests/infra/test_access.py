"""infra/cdk/access.py, checked against the functions and their settings without a synth: every
function declares what it touches, and the declarations keep the product's promises."""

from __future__ import annotations

import pytest

from infra.cdk.access import ACCESS, Access
from infra.functions import FUNCTIONS, FunctionSpec
from infra.tables import TABLES

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")

_TABLE_VARIABLES = {table.suffix: table.env_var for table in TABLES}
_BUCKET_VARIABLES = {
    "exports": "EXPORTS_BUCKET",
    "audiences": "AUDIENCES_BUCKET",
    "audit-digests": "AUDIT_DIGEST_BUCKET",
}
_CHANGES = {"UpdateItem", "DeleteItem", "BatchWriteItem"}
_DELETES = {"DeleteItem", "BatchWriteItem"}
_CAMPAIGN_BATCH_WRITERS = {"CampaignEnrol", "CampaignProgress"}
# privacyctl filter's uploads through the API (functions/audience_filter/uploads.py).
_API_UPLOAD_PREFIXES = {"requests/", "clean/requests/"}


def _access(spec: FunctionSpec) -> Access:
    assert spec.name in ACCESS, (
        f"function {spec.name!r} ({spec.handler}) has no entry in infra/cdk/access.py ACCESS: "
        "declare the tables (and actions), buckets, workflow and event-bus calls it makes"
    )
    return ACCESS[spec.name]


def _settings(spec: FunctionSpec) -> set[str]:
    return {name.upper() for name in spec.settings.model_fields}


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_every_function_declares_its_access(spec: FunctionSpec) -> None:
    _access(spec)


def test_every_declaration_is_of_a_function() -> None:
    stale = ACCESS.keys() - {spec.name for spec in FUNCTIONS}
    assert not stale, f"infra/cdk/access.py declares functions that do not exist: {stale}"


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_declared_tables_and_buckets_are_in_the_functions_settings(spec: FunctionSpec) -> None:
    access = _access(spec)
    for table in access.tables:
        assert table.table in _TABLE_VARIABLES, f"{spec.name}: no table {table.table!r}"
        assert _TABLE_VARIABLES[table.table] in _settings(spec), (spec.name, table.table)
        assert not table.indexes or table.actions == ("Query",), (spec.name, table)
    for bucket in access.buckets:
        assert _BUCKET_VARIABLES[bucket.bucket] in _settings(spec), (spec.name, bucket.bucket)
        assert bucket.prefix.endswith("/"), "a key prefix, never the whole bucket"
    if access.notified_by is not None:
        assert access.notified_by.split("/", 1)[0] in _BUCKET_VARIABLES, access.notified_by


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_audit_entries_are_only_ever_added(spec: FunctionSpec) -> None:
    """Reads, and PutItem inside the state-change transaction (whose condition refuses an
    existing entry id); an audit chain head that moves must live outside the entries' table."""
    for table in _access(spec).tables:
        if table.table == "audit":
            assert set(table.actions) <= {"GetItem", "Query", "Scan", "PutItem"}, (spec.name, table)
            assert "PutItem" not in table.actions or table.in_transaction, (spec.name, table)


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_only_forget_deletes_outside_a_state_change(spec: FunctionSpec) -> None:
    """Deleting customer data, suppression entries or export files is the erasure's job. Inside
    the state-change transaction the others only release the open-request marker or lift the
    suppression entries their own cease made."""
    access = _access(spec)
    if spec.name == "Forget":
        return
    for table in access.tables:
        if spec.name in _CAMPAIGN_BATCH_WRITERS and table.table == "customers":
            # BatchWriteItem grants deletes too: enrolment only puts (ENROL# items and tokens),
            # the campaign's bookkeeping deletes its own ENROL# items once a page is dealt with.
            assert set(table.actions) & _DELETES <= {"BatchWriteItem"}, (spec.name, table)
            continue
        if table.table != "idempotency" and not table.in_transaction:
            assert not _DELETES & set(table.actions), (spec.name, table)
    for bucket in access.buckets:
        if spec.name == "Export" and bucket.bucket == "exports":
            # Its own file only: when the member is forgotten while it is written, the export
            # removes what it produced rather than leave it for the 7-day lifecycle rule.
            continue
        if spec.name == "Api" and bucket.prefix in _API_UPLOAD_PREFIXES:
            # What a user uploaded through the API (and its screened copy), removed for them
            # (DELETE /audiences/uploads/{uploadId}).
            continue
        assert not [a for a in bucket.actions if a.startswith("Delete")], (spec.name, bucket)


def test_the_api_never_deletes_customer_data() -> None:
    api = ACCESS["Api"]
    for table in api.tables:
        if "DeleteItem" in table.actions:
            # The open-request marker a cancelled request releases, in its transaction; an
            # opt-in lifting the person's topic opt-out, in the consent change's transaction;
            # and powertools' own idempotency records.
            assert table.table == "idempotency" or (
                table.table in ("customers", "suppression") and table.in_transaction
            ), table
        assert "BatchWriteItem" not in table.actions
    # Its S3 access never deletes: it reads export files (to sign links), audit digests (to
    # verify) and audience files (to check a job's source), and writes audience job records.
    for bucket in api.buckets:
        allowed = {"GetObject", "GetObjectVersion", "ListBucket"}
        if bucket.prefix == "jobs/":
            allowed.add("PutObject")
        if bucket.bucket == "audiences" and bucket.prefix in _API_UPLOAD_PREFIXES:
            # The uploads it signs, and removing exactly those (every version) afterwards.
            allowed |= {"ListBucketVersions", "DeleteObject", "DeleteObjectVersion"}
            if bucket.prefix == "requests/":
                allowed.add("PutObject")
        assert set(bucket.actions) <= allowed, bucket
    prefixes = {b.prefix for b in api.buckets if any(a.startswith("Delete") for a in b.actions)}
    assert prefixes == _API_UPLOAD_PREFIXES, prefixes


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_bucket_triggered_functions_write_no_customer_or_request(spec: FunctionSpec) -> None:
    """The audience filter screens files against the suppression index: it reads, never writes,
    customers and requests."""
    access = _access(spec)
    if access.notified_by is None:
        return
    for table in access.tables:
        if table.table in ("customers", "requests"):
            assert set(table.actions) <= {"GetItem", "Query"}, (spec.name, table)
