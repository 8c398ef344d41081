"""Status callbacks (spec 2.03): a request's DRP status POSTed to the `status_callback` its
agent gave, whenever it changes. Best effort, as the spec asks: one POST with a short timeout,
a failure logged (the callback's host, never its path or the status) and never failing the
change that caused it; the agent can always read the status (GET /v1/data-rights-request/{id}).

Who sends: the API for the changes it makes (a staff cancel, a deadline extension), the
workflow's Validate step for a request it rejects, and its Finish step for the outcomes it
writes (completed, expired, failed). A
callback must be https; plain http only to this machine, and only where the deployment allows
it (the local stack: DRP_LOCAL_CALLBACKS), so that an agent cannot make the business call
into its own network."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

from functions.drp.repository import DrpRepository
from functions.drp.status import status_object
from functions.shared.domain import PrivacyRequest
from functions.shared.observability import logger

TIMEOUT_SECONDS = 5
MAX_URL_LENGTH = 2048
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def callback_problem(url: str, allow_local: bool) -> str | None:
    """Why `url` cannot be a status callback, or None when it can."""
    if len(url) > MAX_URL_LENGTH:
        return f"status_callback is over {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "status_callback is not a URL"
    if not host:
        return "status_callback is not an absolute URL"
    if parts.username or parts.password:
        return "status_callback may not carry credentials"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and allow_local and host in LOCAL_HOSTS:
        return None
    return "status_callback must be an https URL"


class _Refuse(urllib.request.HTTPRedirectHandler):
    """A callback is never redirected: urllib would follow a 302 as a GET to anywhere, the
    Lambda runtime's own http://127.0.0.1:9001 included, past the https rule checked above."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(_Refuse)


class CallbackSender(Protocol):
    def send(self, url: str, status: dict[str, Any]) -> None: ...


class HttpCallbacks:
    """POSTs with urllib: the functions need no HTTP client library for one request."""

    def __init__(self, allow_local: bool) -> None:
        self._allow_local = allow_local

    def send(self, url: str, status: dict[str, Any]) -> None:
        if callback_problem(url, self._allow_local):
            return  # checked at submission; a deployment's rule may have tightened since
        request = urllib.request.Request(
            url,
            data=json.dumps(status).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with _NO_REDIRECTS.open(request, timeout=TIMEOUT_SECONDS) as answer:
                answer.read(1024)  # the spec: the body is to be discarded
        except Exception as exc:  # best effort: nothing the agent's server does fails our change
            logger.warning(
                "status callback not delivered",
                extra={"callbackHost": urlsplit(url).hostname, "error": type(exc).__name__},
            )


class AgentCallbacks:
    """Tells a request's agent its new status, if the request came from one."""

    def __init__(self, drp: DrpRepository, sender: CallbackSender) -> None:
        self.drp = drp
        self.sender = sender

    def request_changed(
        self,
        request: PrivacyRequest,
        results: Callable[[PrivacyRequest], str | None] = lambda request: None,
    ) -> None:
        if not request.submitted_by.startswith("drp:"):
            return  # not an agent's: no item to read
        try:
            link = self.drp.request(request.request_id)
            if link is None or not link.status_callback:
                return
            url = results(request)
            self.sender.send(link.status_callback, status_object(link, request, url))
        except Exception:
            logger.exception("status callback failed", extra={"requestId": request.request_id})

    def request_ended(
        self,
        request_id: str,
        read: Callable[[str], PrivacyRequest],
        results: Callable[[PrivacyRequest], str | None] = lambda request: None,
    ) -> None:
        """The workflow's Finish step: read the request as it now stands and tell its agent.
        Never raises: the step's own work is done, and a retry must not be caused by this."""
        try:
            request = read(request_id)
        except Exception:
            logger.exception("status callback failed", extra={"requestId": request_id})
            return
        self.request_changed(request, results)
