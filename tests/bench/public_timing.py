"""Does the time of POST /public/preferences/link tell a customer's address from a stranger's?
On the local stack, alternating known and unknown addresses, RUNS each: the answer's time
without the floor (the raw difference: the known path issues a link, writes its lookup item and
publishes a message) and with it (PUBLIC_ANSWER_FLOOR_MS, functions/shared/steady.py). The
baseline is the unknown address without the floor: a query of the index and nothing else."""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from dataclasses import replace

from infra.local.stack import DEMO_CUSTOMERS, LocalStack
from privacyctl.client import ApiClient
from tests.bench.sizes import size

RUNS = size("BENCH_TIMING_RUNS", 40, 2)
FLOOR_MS = 300


def _figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):7.1f} ms  p95 {p95:7.1f} ms  max {ordered[-1]:7.1f}"


def main() -> None:
    from functions.api import dependencies

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    stack = LocalStack(api_port=0).start(seed=False)
    customer = ApiClient(stack.api_url, None)
    template = json.loads(DEMO_CUSTOMERS.read_text())[0]
    known = [f"pt{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(RUNS)]
    stack.seed(
        [
            {**template, "customerId": f"PT-{i}", "profile": {**template["profile"], "email": e}}
            for i, e in enumerate(known)
        ]
    )

    def ask(email: str) -> float:
        start = time.perf_counter()
        customer.call("POST", "/public/preferences/link", {"email": email})
        return (time.perf_counter() - start) * 1000

    results: dict[str, dict[str, list[float]]] = {}
    try:
        for floor in (0, FLOOR_MS):
            dependencies.use(
                replace(stack.api_dependencies(), public_answer_floor_seconds=floor / 1000)
            )
            runs: dict[str, list[float]] = {"known": [], "unknown": []}
            for email in known:
                runs["known"].append(ask(email))
                runs["unknown"].append(ask(f"nobody-{uuid.uuid4().hex[:8]}@example.org"))
            results[f"floor {floor} ms"] = runs
    finally:
        dependencies.use(None)
        stack.stop()
    print(f"POST /public/preferences/link on the local stack, {RUNS} of each, alternating")
    baseline = statistics.median(results["floor 0 ms"]["unknown"])
    for label, runs in results.items():
        for kind in ("unknown", "known"):
            note = "  (baseline)" if (label, kind) == ("floor 0 ms", "unknown") else ""
            print(f"  {label:<14}{kind:<9}{_figures(runs[kind])}{note}")
        gap = statistics.median(runs["known"]) - statistics.median(runs["unknown"])
        print(f"  {label:<14}known - unknown, medians: {gap:+.1f} ms ({gap / baseline:+.0%})")


if __name__ == "__main__":
    main()
