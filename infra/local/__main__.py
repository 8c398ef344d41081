"""`make run`: start the local stack and keep it up until Ctrl-C.

It says what it is doing step by step, prints one line per API request, and writes its
addresses to .local-stack.json (LOCAL_STACK_FILE moves it), where privacyctl finds them; the
file is removed when the stack stops. Everything lives in memory: stopping loses it all."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import sys
import threading
import warnings
from datetime import UTC, datetime
from pathlib import Path

from infra.local.stack import DEMO_CUSTOMERS, REGION, ROOT, LocalStack

STACK_FILE = ".local-stack.json"

USAGE = """
privacy-functions local stack is up.

  API        {api}
  moto       {moto}  (AWS_ENDPOINT_URL for boto3 / the AWS CLI, region {region})
  customers  {count} demo customers from {demo}
  addresses  {stack_file}  (privacyctl reads it: no --api needed)

Try it, in another shell:
  .venv/bin/privacyctl customer C-1001
  .venv/bin/privacyctl cease C-1004 --reason "customer phoned" --identity-verified --yes
  .venv/bin/privacyctl resume C-1004 --identity-verified --yes
  .venv/bin/privacyctl outbox      # the messages customers would have been sent (local only)

or with curl:
  API=$(.venv/bin/privacyctl where)
  curl -s -H 'Authorization: Bearer dev:alice:agent' "$API/customers/C-1001/privacy"

State is kept in memory only: Ctrl-C stops the stack and loses everything it holds.
One line per API request follows (method, route, status, time, request id).
"""


def stack_file() -> Path:
    return Path(os.environ.get("LOCAL_STACK_FILE") or ROOT / STACK_FILE)


def _step(text: str) -> None:
    print(f"make run: {text}", flush=True)


def _port_free(port: int) -> bool:
    if port == 0:
        return True
    with socket.socket() as probe:
        # As http.server binds: a port left in TIME_WAIT by an earlier run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_in_use(port: int) -> int:
    print(
        f"error: port {port} is already in use (another `make run`?): stop that one, "
        f"or pick another port with LOCAL_API_PORT={port + 1} make run",
        file=sys.stderr,
    )
    return 1


def _write_stack_file(path: Path, stack: LocalStack) -> None:
    record = {
        "api": stack.api_url,
        "moto": stack.moto_url,
        "region": REGION,
        "pid": os.getpid(),
        "startedAt": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path.write_text(json.dumps(record, indent=2) + "\n")


def _remove_stack_file(path: Path) -> None:
    # Only ours: a second stack may have written its own since.
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def main() -> int:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    # The EMF metric lines would drown the one line per request.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    # Read-only routes publish no metric; powertools warns about each empty flush.
    warnings.filterwarnings("ignore", "No application metrics to publish")
    port = int(os.environ.get("LOCAL_API_PORT", "8000"))
    if not _port_free(port):
        return _port_in_use(port)
    stack = LocalStack(api_port=port, steps=_step, request_log=lambda line: print(line, flush=True))
    try:
        stack.start()
    except OSError as exc:
        stack.stop()
        if exc.errno == errno.EADDRINUSE:
            return _port_in_use(port)
        raise
    path = stack_file()
    _write_stack_file(path, stack)
    count = len(json.loads(DEMO_CUSTOMERS.read_text()))
    print(
        USAGE.format(
            api=stack.api_url,
            moto=stack.moto_url,
            region=REGION,
            count=count,
            demo=DEMO_CUSTOMERS.relative_to(ROOT),
            stack_file=path,
        ),
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    finally:
        _remove_stack_file(path)
        stack.stop()
    print("local stack stopped (its state is gone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
