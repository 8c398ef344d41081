"""An authorized agent for the tests, as the reference agent (OSIRAA) is one: PyNaCl keys,
messages signed in libsodium's combined mode and base64-encoded, sent as text/plain, and a
status-callback endpoint listening on this machine."""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from nacl.signing import SigningKey


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


class Callbacks:
    """An agent's status_callback endpoint: every status POSTed to it, in order."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with outer._lock:
                    outer.received.append(body)
                    outer._lock.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/update_status"

    def wait_for(self, request_id: str, status: str, timeout: float = 60.0) -> dict[str, Any]:
        deadline = datetime.now(UTC) + timedelta(seconds=timeout)
        with self._lock:
            while True:
                for body in self.received:
                    if body.get("request_id") == request_id and body.get("status") == status:
                        return body
                left = (deadline - datetime.now(UTC)).total_seconds()
                if left <= 0:
                    raise AssertionError(f"no {status} callback for {request_id}: {self.received}")
                self._lock.wait(left)

    def of(self, request_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [b for b in self.received if b.get("request_id") == request_id]

    def close(self) -> None:
        self._server.shutdown()


class DrpAgent:
    def __init__(self, api_url: str, business_id: str, agent_id: str | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self.business_id = business_id
        self.agent_id = agent_id or f"TEST_AGENT_{uuid.uuid4().hex[:8].upper()}"
        self.key = SigningKey.generate()
        self.token: str | None = None

    @property
    def verify_key(self) -> str:
        return base64.b64encode(self.key.verify_key.encode()).decode()

    def sign(self, message: dict[str, Any], key: SigningKey | None = None) -> str:
        return base64.b64encode((key or self.key).sign(json.dumps(message).encode())).decode()

    def envelope(self, **more: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "agent-id": self.agent_id,
            "business-id": self.business_id,
            "issued-at": stamp(now),
            "expires-at": stamp(now + timedelta(minutes=15)),
            "drp.version": "1.0",
            **more,
        }

    def send(
        self, method: str, path: str, body: str | None = None, token: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "text/plain"}
        bearer = token if token is not None else self.token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        request = urllib.request.Request(
            self.api_url + path,
            data=body.encode() if body is not None else None,
            method=method,
            headers=headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else None

    def pair(self) -> dict[str, Any]:
        status, answer = self.send(
            "POST", f"/v1/agent/{self.agent_id}", self.sign(self.envelope()), token=""
        )
        assert status == 200, (status, answer)
        self.token = answer["token"]
        return answer

    def exercise(self, exercise: str, **claims: Any) -> tuple[int, Any]:
        message = self.envelope(exercise=exercise, regime="ccpa", **claims)
        return self.send("POST", "/v1/data-rights-request", self.sign(message))

    def status(self, request_id: str) -> tuple[int, Any]:
        return self.send("GET", f"/v1/data-rights-request/{request_id}")

    def revoke(self, request_id: str, reason: str = "changed my mind") -> tuple[int, Any]:
        return self.send(
            "DELETE", f"/v1/data-rights-request/{request_id}", self.sign({"reason": reason})
        )
