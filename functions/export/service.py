"""EXPORT: every fact we keep about the member as one CSV in the exports bucket, streamed from a
paginated query into a multipart upload so a large member is never held in memory.

Restriction never blocks access: a ceased member can export; a forgotten one cannot. What was
produced (object version, rows, bytes, SHA-256) is kept on the request before the step moves on,
so a retry reuses it and the audited checksum is always that of the file the link serves."""

from __future__ import annotations

from itertools import chain
from typing import Any, Protocol

from functions.export.csv_file import Tally, csv_chunks, customer_rows, request_rows
from functions.export.files import ExportFiles
from functions.requests.apply import ApplyOutcome, request_to_apply, status_if_still_allowed
from functions.requests.lifecycle import (
    WORKFLOW_ACTOR,
    RequestStores,
    advance,
    record_event,
    reject,
)
from functions.shared.clock import utc_now
from functions.shared.domain import PrivacyStatus, RequestStatus, RequestType
from functions.shared.errors import CustomerNotFoundError
from functions.shared.observability import logger

FILE_PRODUCED = "EXPORT_FILE_PRODUCED"
_AUDITED = ("rows", "bytes", "sha256")


class ExportStores(RequestStores, Protocol):
    exports: ExportFiles


def export_customer_data(request_id: str, deps: ExportStores) -> ApplyOutcome:
    request = request_to_apply(request_id, RequestType.EXPORT, deps)
    if request is None:
        return ApplyOutcome.APPLIED

    if not request.result:
        if status_if_still_allowed(request, deps) is None:
            return ApplyOutcome.REJECTED
        produced = write_export(request_id, request.customer_id, deps)
        if not _still_known(request.customer_id, deps):
            # Forgotten while we wrote: the file must not outlive them.
            deps.exports.delete_all_versions(request_id)
            reject(deps, request_id, "the customer was forgotten while the export was written")
            return ApplyOutcome.REJECTED
        request = deps.requests.save_result_once(request_id, produced)

    summary = {name: request.result[name] for name in _AUDITED}
    record_event(deps, request, FILE_PRODUCED, WORKFLOW_ACTOR, summary)
    advance(deps, request, RequestStatus.APPLIED, WORKFLOW_ACTOR, details=summary)
    logger.info("export written", extra={"requestId": request_id, **summary})
    return ApplyOutcome.APPLIED


def write_export(request_id: str, customer_id: str, deps: ExportStores) -> dict[str, Any]:
    """Stream the member's CSV to the request's export file; answers what was written."""
    rows = chain(
        customer_rows(deps.customers.records(customer_id)),
        request_rows(deps.requests.for_customer(customer_id)),
    )
    tally = Tally()
    version_id = deps.exports.upload(request_id, csv_chunks(rows, tally))
    return {
        "rows": tally.rows,
        "bytes": tally.bytes,
        "sha256": tally.sha256,
        "versionId": version_id,
        "producedAt": utc_now(),
    }


def _still_known(customer_id: str, deps: ExportStores) -> bool:
    try:
        return deps.customers.privacy_status(customer_id) is not PrivacyStatus.FORGOTTEN
    except CustomerNotFoundError:
        return False  # half-way through an erasure
