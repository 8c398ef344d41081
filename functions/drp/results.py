"""A fulfilled access request's `results_url`: a fresh 15-minute link to the export's file,
issued to the agent that sent the request (it is the request's submitter) and audited as any
download link is (DOWNLOAD_LINK_ISSUED, to `drp:<agentId>`)."""

from __future__ import annotations

from functions.export.download_links import LinkStores, export_file_until, issue_download_link
from functions.shared.caller import Caller
from functions.shared.domain import PrivacyRequest, RequestType
from functions.shared.errors import DomainError


def results_url(request: PrivacyRequest, deps: LinkStores) -> str | None:
    if request.type is not RequestType.EXPORT or not export_file_until(request):
        return None
    try:
        return issue_download_link(
            request.request_id, Caller(request.submitted_by, frozenset()), deps
        ).url
    except DomainError:
        return None  # forgotten since, or past retention: a status without a link
