"""Export download links: signed afresh for each allowed caller who reads a completed export
request, valid EXPORT_LINK_SECONDS, each issuance audited with to whom it went."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.api.auth import Caller
from functions.api.schemas import request_detail
from functions.shared.domain import (
    EXPORT_LINK_SECONDS,
    EXPORT_RETENTION_DAYS,
    PrivacyRequest,
    RequestStatus,
    RequestType,
)
from functions.shared.identifiers import PSEUDONYM_PREFIX
from functions.shared.wiring import Dependencies

LINK_ISSUED = "DOWNLOAD_LINK_ISSUED"


def describe_request(request_id: str, caller: Caller, deps: Dependencies) -> dict[str, Any]:
    request = deps.repos.requests.get(request_id)
    body = request_detail(request)
    link = issue_download_link(request, caller, deps)
    if link is not None:
        body["result"] = {**body.get("result", {}), **link}
    return body


def issue_download_link(
    request: PrivacyRequest, caller: Caller, deps: Dependencies
) -> dict[str, str] | None:
    """A fresh presigned link to the request's export file, audited before it is handed out;
    None when there is no file to serve."""
    if deps.exports is None or not _downloadable(request):
        return None
    link_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    expires_at = _iso(now + timedelta(seconds=EXPORT_LINK_SECONDS))
    url = deps.exports.download_link(
        request.request_id, str(request.result["versionId"]), EXPORT_LINK_SECONDS
    )
    deps.repos.transitions.record_event(
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
    produced = datetime.fromisoformat(str(request.result["producedAt"]))
    # Past retention the lifecycle rule has deleted the file: no link to nothing.
    return datetime.now(UTC) < produced + timedelta(days=EXPORT_RETENTION_DAYS)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
