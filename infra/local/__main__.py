"""`make run`: start the local stack and keep it up until Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading

from infra.local.stack import DEMO_CUSTOMERS, LocalStack

USAGE = """
privacy-functions local stack is up.

  API        {api}
  moto       {moto}  (AWS_ENDPOINT_URL for boto3 / the AWS CLI)
  customers  {count} demo customers from {demo}

Try it (privacyctl talks to {api} by default):
  .venv/bin/privacyctl customer C-1001
  .venv/bin/privacyctl cease C-1001 --reason "customer phoned" --identity-verified --yes
  .venv/bin/privacyctl resume C-1001 --identity-verified --yes

or with curl:
  curl -s -H 'Authorization: Bearer dev:alice:agent' {api}/customers/C-1001/privacy
  curl -s -X POST -H 'Authorization: Bearer dev:alice:agent' -H 'Content-Type: application/json' \\
       -d '{{"type": "CEASE_MARKETING", "identityVerified": true}}' \\
       {api}/customers/C-1001/privacy-requests

Ctrl-C stops it (everything lives in memory).
"""


def main() -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    port = int(os.environ.get("LOCAL_API_PORT", "8000"))
    stack = LocalStack(api_port=port).start()
    import json

    count = len(json.loads(DEMO_CUSTOMERS.read_text()))
    print(USAGE.format(api=stack.api_url, moto=stack.moto_url, count=count, demo=DEMO_CUSTOMERS))
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    stack.stop()
    print("local stack stopped")


if __name__ == "__main__":
    main()
