"""Consent changes on the local stack, median of 30 each, against a baseline in the same run:
GET /customers/{id}/privacy through the same gateway and handler (a read, no transaction).
An opt-out writes the consent, its history item, one suppression entry per identifier and the
audit entry in one transaction; an opt-in reads the person's entries and lifts them."""

from __future__ import annotations

import json
import os
import statistics
import time

from infra.local.stack import DEMO_CUSTOMERS, LocalStack
from privacyctl.client import ApiClient
from tests.bench.sizes import size

RUNS = size(None, 30, 2)


def _median_ms(call) -> float:
    samples = []
    for i in range(RUNS):
        start = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    stack = LocalStack(api_port=0).start(seed=False)
    api = ApiClient(stack.api_url, "dev:bench:agent")
    customer = ApiClient(stack.api_url, None)  # the public route takes no staff token
    template = json.loads(DEMO_CUSTOMERS.read_text())[0]
    ids = [f"BC-{i}" for i in range(RUNS)]
    for i, customer_id in enumerate(ids):
        profile = {**template["profile"], "email": f"bc{i}@example.com", "phone": ""}
        stack.seed([{**template, "customerId": customer_id, "profile": profile, "consents": []}])

    def put(i: int, granted: bool, source: str) -> dict:
        body = {"channel": "email", "granted": granted, "source": source}
        return api.call("PUT", f"/customers/{ids[i]}/consents/bench", body)

    try:
        baseline = _median_ms(lambda i: api.privacy(ids[i]))
        opt_out = _median_ms(lambda i: put(i, False, "crm"))
        unchanged = _median_ms(lambda i: put(i, False, "crm"))
        opt_in = _median_ms(lambda i: put(i, True, "crm"))
        _median_ms(lambda i: put(i, False, "crm"))
        pending = _median_ms(lambda i: put(i, True, "import"))
        # The tokens the customers were sent (the local stack's outbox), not the PUT answers'.
        sent = {m["customerId"]: m["detail"]["token"] for m in stack.outbox_messages()}
        confirm = _median_ms(
            lambda i: customer.call("POST", "/public/consents/confirm", {"token": sent[ids[i]]})
        )
    finally:
        stack.stop()
    print(f"consent changes on the local stack (median of {RUNS})")
    print(f"  GET privacy (read)                        {baseline:8.1f} ms  (baseline)")
    for label, ms in (
        ("opt-out: consent+history+suppress+audit", opt_out),
        ("same opt-out again (no write)", unchanged),
        ("opt-in: lift the topic's suppression", opt_in),
        ("opt-in from import: PENDING + message", pending),
        ("POST /public/consents/confirm", confirm),
    ):
        print(f"  {label:<42}{ms:8.1f} ms  ({ms / baseline:.1f}x)")


if __name__ == "__main__":
    main()
