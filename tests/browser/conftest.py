"""The browser tests' local stack and browser: one of each per session.

The stack runs in a process of its own (`python -m infra.local`, what `make run` starts) rather
than in the test process as tests/integration's does: a second stack in one process is not
supported (infra/local/reset.py), and an xdist worker may run integration tests too. The browser
reaches it the way a customer would, over HTTP only, and reads the outbox at GET /_local/outbox.

The browser is Debian's chromium (`make setup` installs it), driven by Playwright: headless, with
a fresh profile per launch (Playwright's own temporary user-data dir), and no background traffic
of its own (the launch arguments), so that every request recorded is one the pages made."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AGENT = "Bearer dev:browser-tests:agent"
# The preference centre's configuration for these tests: a brand of the group besides the
# brand-less topics (the page groups them), and GPC honoured as an opt-out of `offers`.
STACK_ENV = {
    "PREFERENCE_TOPICS": json.dumps(
        {"topics": ["newsletter", "offers"], "brands": {"northwind": ["newsletter"]}}
    ),
    "GPC_TOPIC": "offers",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A staff (agent) call, or GET /_local/outbox: what the tests set up and check with."""
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": AGENT, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def public(self, path: str, body: dict[str, Any]) -> Any:
        """A customer's call (no token), as the page makes it."""
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def outbox(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/_local/outbox")["messages"])

    def last_message(self, kind: str, **detail: Any) -> dict[str, Any]:
        """The newest message of this kind whose detail has these values."""
        found = [
            m
            for m in self.outbox()
            if m["type"] == kind and all(m["detail"].get(k) == v for k, v in detail.items())
        ]
        assert found, f"no {kind} {detail} in the outbox"
        return found[-1]

    def preference_token(self, customer_id: str) -> str:
        """A preference link's token, sent by an agent: to read a customer's state directly."""
        self.call("POST", f"/customers/{customer_id}/preference-link")
        sent = self.last_message("PreferenceLinkRequested", customerId=customer_id)
        return str(sent["detail"]["token"])

    def states(self, customer_id: str) -> dict[tuple[str | None, str, str], str | None]:
        """(brand, topic, channel) -> status, as the customer's own page would read it."""
        token = self.preference_token(customer_id)
        answer = self.public("/public/preferences", {"token": token})
        return {
            (p.get("brand"), p["topic"], p["channel"]): p["status"] for p in answer["preferences"]
        }


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    port = _free_port()
    stack_file = tmp_path_factory.mktemp("browser-stack") / "local-stack.json"
    env = {
        **os.environ,
        **STACK_ENV,
        "LOCAL_API_PORT": str(port),
        "LOCAL_STACK_FILE": str(stack_file),
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not stack_file.exists():
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited: {process.stderr.read().decode()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the local stack did not start in 120 s")
        time.sleep(0.1)
    url = json.loads(stack_file.read_text())["api"]
    yield Stack(url, process)
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium")
    from playwright.sync_api import expect, sync_playwright

    # Under `make test` the other workers share the CPU: seconds, not Playwright's 5 s default.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@dataclass
class Visit:
    """One browser context (its own cookies and storage) and every request its pages made."""

    context: Any
    requests: list[str] = field(default_factory=list)

    def page(self) -> Any:
        page = self.context.new_page()
        # A missing element fails in seconds, not Playwright's 30.
        page.set_default_timeout(15_000)
        return page


@pytest.fixture
def visit(browser: Any, stack: Stack) -> Iterator[Any]:
    """visit(**context_options) -> Visit. Afterwards: no request went to any other origin."""
    opened: list[Visit] = []

    def open_context(**options: Any) -> Visit:
        context = browser.new_context(**options)
        opened_visit = Visit(context)
        context.on("request", lambda request: opened_visit.requests.append(request.url))
        opened.append(opened_visit)
        return opened_visit

    yield open_context
    for each in opened:
        each.context.close()
        elsewhere = [u for u in each.requests if not u.startswith(stack.origin + "/")]
        assert not elsewhere, f"requests to other origins: {elsewhere}"
        assert each.requests, "the pages made no request at all"
