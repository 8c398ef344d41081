"""`make run`'s entry point, as a user starts it: a process that seeds the demo customers,
prints how to call it, serves HTTP, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time

from privacyctl.client import ApiClient
from tests.integration.processes import clean_env, free_port, local_stack


def test_local_stack_process_serves_the_demo_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    stack_file = tmp_path / "stack.json"
    env = clean_env(LOCAL_API_PORT=str(port), LOCAL_STACK_FILE=str(stack_file))
    process = local_stack(env)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "One line per API request follows" in line or not line:
                break
        banner = "".join(lines)
        assert f"http://127.0.0.1:{port}" in banner, banner
        assert "make run: seeding the 12 demo customers" in banner
        assert "in memory only" in banner
        assert json.loads(stack_file.read_text())["api"] == f"http://127.0.0.1:{port}"

        api = ApiClient(f"http://127.0.0.1:{port}", "dev:alice:agent")
        assert api.privacy("C-1001")["privacyStatus"] == "ACTIVE"
        assert api.privacy("C-1012")["consents"]
        outcome = api.submit("C-1005", {"type": "CEASE_MARKETING", "identityVerified": True})
        api.confirm(outcome["requestId"])
        for _ in range(200):
            if api.request(outcome["requestId"])["status"] == "COMPLETED":
                break
            time.sleep(0.05)
        assert api.privacy("C-1005")["privacyStatus"] == "CEASED"
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0, rest
    assert "local stack stopped" in rest
    # One line per request, by route template: the customer ids asked about are not printed.
    assert "api GET    /customers/{customerId}/privacy " in rest
    assert "C-1001" not in rest and "C-1005" not in rest
    assert not stack_file.exists()


def test_a_second_stack_on_a_used_port_says_so_in_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = clean_env(LOCAL_API_PORT=str(port), LOCAL_STACK_FILE=str(tmp_path / "s"))
        process = local_stack(env, stderr=subprocess.PIPE)
        _, stderr = process.communicate(timeout=60)
        done = subprocess.CompletedProcess(process.args, process.returncode, "", stderr)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: port {port} is already in use (another `make run`?): stop that one, "
        f"or pick another port with LOCAL_API_PORT={port + 1} make run"
    ]
