"""A small HTTP client of the privacy API (API.md). Standard library only."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any


def segment(value: str) -> str:
    """One path segment, percent-encoded: an id or topic with a space or a slash stays one."""
    return urllib.parse.quote(value, safe="")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class ApiClient:
    """`token` None: no Authorization header, as a customer's browser calls the public routes."""

    def __init__(self, base_url: str, token: str | None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                **({"Authorization": f"Bearer {self._token}"} if self._token else {}),
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return dict(json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            raise _api_error(exc.code, exc.read()) from None
        except urllib.error.URLError as exc:
            raise ApiError(
                0, "UNREACHABLE", f"cannot reach {self.base_url}: {exc.reason}"
            ) from None
        except (TimeoutError, ConnectionError, http.client.HTTPException, ValueError) as exc:
            # A dropped connection, a timeout, an API address that is not a URL.
            reason = str(exc) or type(exc).__name__
            raise ApiError(0, "UNREACHABLE", f"cannot reach {self.base_url}: {reason}") from None

    def submit(
        self, customer_id: str, body: dict[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        path = f"/customers/{segment(customer_id)}/privacy-requests"
        return self.call("POST", path, body, headers)

    def request(self, request_id: str) -> dict[str, Any]:
        return self.call("GET", f"/privacy-requests/{segment(request_id)}")

    def download_link(self, request_id: str) -> dict[str, Any]:
        return self.call("POST", f"/privacy-requests/{segment(request_id)}/download-link", {})

    def confirm(self, request_id: str) -> dict[str, Any]:
        return self.call("POST", f"/privacy-requests/{segment(request_id)}/confirm", {})

    def cancel(self, request_id: str) -> dict[str, Any]:
        return self.call("POST", f"/privacy-requests/{segment(request_id)}/cancel", {})

    def privacy(self, customer_id: str) -> dict[str, Any]:
        return self.call("GET", f"/customers/{segment(customer_id)}/privacy")

    def permissions(self, customer_id: str) -> dict[str, Any]:
        return self.call("GET", f"/customers/{segment(customer_id)}/processing-permissions")

    def audit(self, params: Mapping[str, str]) -> dict[str, Any]:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v})
        return self.call("GET", f"/audit?{query}" if query else "/audit")

    def audit_entries(self, params: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        """Every entry the filters match, newest first, page after page."""
        token: str | None = None
        while True:
            page = self.audit({**params, **({"nextToken": token} if token else {})})
            yield from page["entries"]
            token = page.get("nextToken")
            if not token:
                return

    def audit_verify(self) -> dict[str, Any]:
        return self.call("GET", "/audit/verify")


def _api_error(status: int, raw: bytes) -> ApiError:
    try:
        error = json.loads(raw)["error"]
        return ApiError(status, str(error["code"]), str(error["message"]))
    except (ValueError, KeyError, TypeError):
        return ApiError(status, "HTTP_ERROR", raw.decode(errors="replace")[:200] or "no body")
