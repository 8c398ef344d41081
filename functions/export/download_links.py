"""Export download links: signed afresh for each allowed caller who reads a completed export
request, valid EXPORT_LINK_SECONDS, each issuance audited with to whom it went."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Protocol

from functions.export.files import ExportFiles
from functions.requests.lifecycle import RequestStores, record_event
from functions.shared import clock
from functions.shared.caller import Caller
from functions.shared.domain import (
    EXPORT_LINK_SECONDS,
    EXPORT_RETENTION_DAYS,
    PrivacyRequest,
    RequestStatus,
    RequestType,
)
from functions.shared.identifiers import PSEUDONYM_PREFIX

LINK_ISSUED = "DOWNLOAD_LINK_ISSUED"


class LinkStores(RequestStores, Protocol):
    exports: ExportFiles


def issue_download_link(
    request: PrivacyRequest, caller: Caller, deps: LinkStores
) -> dict[str, str] | None:
    """A fresh presigned link to the request's export file, audited before it is handed out;
    None when there is no file to serve."""
    if not _downloadable(request):
        return None
    link_id = uuid.uuid4().hex
    expires_at = clock.iso(clock.now() + timedelta(seconds=EXPORT_LINK_SECONDS), "seconds")
    url = deps.exports.download_link(
        request.request_id, str(request.result["versionId"]), EXPORT_LINK_SECONDS
    )
    record_event(
        deps,
        request,
        LINK_ISSUED,
        caller.username,
        {
            "linkId": link_id,
            "issuedTo": caller.username,
            "groups": sorted(caller.groups),
            "expiresAt": expires_at,
            "sha256": request.result.get("sha256"),
        },
        occurrence=link_id,
    )
    return {"downloadUrl": url, "expiresAt": expires_at}


def _downloadable(request: PrivacyRequest) -> bool:
    if request.type is not RequestType.EXPORT or request.status is not RequestStatus.COMPLETED:
        return False
    if request.customer_id.startswith(PSEUDONYM_PREFIX) or "versionId" not in request.result:
        return False  # forgotten since: their files are gone
    produced = clock.parse(str(request.result["producedAt"]))
    # Past retention the lifecycle rule has deleted the file: no link to nothing.
    return clock.now() < produced + timedelta(days=EXPORT_RETENTION_DAYS)
