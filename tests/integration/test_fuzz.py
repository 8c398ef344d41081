"""Schemathesis, from outside: it reads the served OpenAPI document and sends generated requests
(valid and invalid) to a local stack of its own, with a dev token of every group and with none.
Zero 5xx, zero answers the document does not describe, zero undocumented status codes.

Two checks are left out, on purpose:
- `unsupported_method` wants 405 for a method a path does not declare; API Gateway answers such a
  request itself (our gateway response: 404 NOT_FOUND), and the local gateway does the same.
- `positive_data_acceptance` wants every schema-valid request accepted; rules the schema cannot
  state (a source file must exist in the bucket, a token must be one we issued) answer 400.

`make fuzz` runs the same with many more examples (FUZZ_EXAMPLES)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.integration.processes import clean_env, free_port, local_stack

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
EVERY_GROUP = "dev:fuzz:agent+compliance+export-job"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
EXCLUDED = "unsupported_method,positive_data_acceptance"


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory):
    """Its own process: generated requests start campaigns and submit requests, which must not
    reach the session stack other tests read."""
    port = free_port()
    stack_file = tmp_path_factory.mktemp("fuzz") / "stack.json"
    # No answer floor (functions/shared/steady.py): the fuzzer would spend it on every example
    # of the two routes that have one; their timing is a bench's subject, not a fuzzer's.
    env = clean_env(
        LOCAL_API_PORT=str(port), LOCAL_STACK_FILE=str(stack_file), PUBLIC_ANSWER_FLOOR_MS="0"
    )
    process = local_stack(env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/openapi.json", timeout=5):
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("the local stack for the fuzzer did not start")
            time.sleep(0.5)
    yield url
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)


@pytest.mark.parametrize("token", [EVERY_GROUP, None], ids=["dev-token", "no-token"])
def test_schemathesis_finds_nothing(own_stack, token):
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{own_stack}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        EXCLUDED,
        "--max-examples",
        str(EXAMPLES if token else max(EXAMPLES // 3, 3)),
        "--seed",
        "20261201",
        "--no-color",
    ]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    started = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    output = run.stdout + run.stderr
    counts = re.search(r"(\d+) generated, .*", output)
    summary = counts.group(0) if counts else "no summary"
    print(
        f"schemathesis ({'token' if token else 'no token'}): {summary}, "
        f"{time.monotonic() - started:.0f} s"
    )
    assert run.returncode == 0, output[-6000:]
