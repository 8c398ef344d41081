"""A status callback is one POST to the agent's URL and nowhere else: a redirect is not
followed (urllib would follow a 302 as a GET to any address, the Lambda runtime's included)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from functions.drp.callbacks import HttpCallbacks


def _server(handler: type[BaseHTTPRequestHandler]) -> HTTPServer:
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_redirecting_callback_is_not_followed() -> None:
    reached: list[str] = []

    class Target(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reached.append(self.path)
            self.send_response(200)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    target = _server(Target)

    class Redirecting(Target):
        def do_POST(self) -> None:
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{target.server_port}/runtime")
            self.end_headers()

    agent = _server(Redirecting)
    try:
        HttpCallbacks(allow_local=True).send(
            f"http://127.0.0.1:{agent.server_port}/status", {"status": "fulfilled"}
        )
        assert reached == []
        HttpCallbacks(allow_local=True).send(
            f"http://127.0.0.1:{target.server_port}/status", {"status": "fulfilled"}
        )
        assert reached == ["/status"]  # an answering agent is reached: the test can fail
    finally:
        agent.shutdown()
        target.shutdown()
