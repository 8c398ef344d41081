"""Export download links. An export holds every fact kept about a member, so a link is issued
only when asked for (`POST /privacy-requests/{id}/download-link`), only to the agent who submitted
the request (they verified the member's identity and hand the file over) or to compliance (who
answer for it when that agent cannot), and each issuance is audited once, with to whom it went.
Reading the request shows only whether a file exists and until when."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from functions.export.files import ExportFiles
from functions.requests.lifecycle import RequestStores, record_event
from functions.shared import clock
from functions.shared.caller import Caller, Group
from functions.shared.domain import (
    EXPORT_LINK_SECONDS,
    EXPORT_RETENTION_DAYS,
    PrivacyRequest,
    RequestStatus,
    RequestType,
)
from functions.shared.errors import ConflictError, ForbiddenError
from functions.shared.identifiers import PSEUDONYM_PREFIX

LINK_ISSUED = "DOWNLOAD_LINK_ISSUED"


class LinkStores(RequestStores, Protocol):
    exports: ExportFiles


@dataclass(frozen=True)
class DownloadLink:
    request_id: str
    link_id: str
    url: str
    expires_at: str


def export_file_until(request: PrivacyRequest) -> str | None:
    """Until when the request's export file can be fetched; None when there is none to serve."""
    if request.type is not RequestType.EXPORT or request.status is not RequestStatus.COMPLETED:
        return None
    if request.customer_id.startswith(PSEUDONYM_PREFIX) or "versionId" not in request.result:
        return None  # forgotten since: their files are gone
    produced = clock.parse(str(request.result["producedAt"]))
    # Past retention the lifecycle rule has deleted the file: no link to nothing.
    until = produced + timedelta(days=EXPORT_RETENTION_DAYS)
    return clock.iso(until, "seconds") if clock.now() < until else None


def issue_download_link(request_id: str, caller: Caller, deps: LinkStores) -> DownloadLink:
    """A fresh presigned link to exactly the version the export produced, audited before it is
    handed out."""
    request = deps.requests.get(request_id)
    if Group.COMPLIANCE.value not in caller.groups and caller.username != request.submitted_by:
        raise ForbiddenError(
            "only the agent who submitted the export, or compliance, may fetch its file"
        )
    if export_file_until(request) is None:
        raise ConflictError(
            "this request has no export file to download: it is not a completed export, "
            "its member was forgotten, or the file's retention period has passed"
        )
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
    return DownloadLink(request.request_id, link_id, url, expires_at)
