"""EXPORT of a member with many activity items (20,000 in `make bench`, EXPORT_BENCH_ITEMS for
more): rows, size, time and peak memory.

The local stack runs in a child process, so the memory figures hold the export's own allocations
and not moto's copy of the table and the file. The end-to-end time (confirm -> COMPLETED through
the real workflow) is measured untraced; then, in this process under tracemalloc, the streamed
export itself against a baseline on the same items in the same run: a plain paginated query of
them (no CSV, no S3). Building the file whole would need at least its size in memory.

Slow by nature: moto serialises each DynamoDB item it returns in ~3 ms, so every full read of
100,000 items costs minutes. EXPORT_BENCH_ITEMS overrides the size for a quick look."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
import tracemalloc
import uuid
from collections.abc import Callable
from typing import Any

import pynamodb.settings

from functions.export.handler import handler as export_step
from functions.export.service import write_export
from functions.requests.dependencies import ExportingStores
from functions.shared.customers import customer_items
from functions.shared.models import ALL_MODELS, CustomerItem, bind
from infra.local.reset import forget_previous_stack
from infra.local.stack import DEMO_CUSTOMERS, REGION, LocalStack
from privacyctl.client import ApiClient
from tests.bench.sizes import size

# 20,000 keeps `make bench` within its 20 minutes on 2 cores (each full read of the member costs
# about 3 ms an item on moto); EXPORT_BENCH_ITEMS=100000 measures the 100,000-item member.
ACTIVITY_ITEMS = size("EXPORT_BENCH_ITEMS", 20_000, 50)
MEMBER = "BX-large"
# Here and in the child (which imports this module): moto takes longer than pynamodb's 30 s to
# answer a page of this partition or to run a transaction on its table (it deep-copies the table),
# and a client retry racing the first attempt breaks moto's transaction.
pynamodb.settings.default_settings_dict["read_timeout_seconds"] = 1800
for _model in ALL_MODELS:
    _model.Meta.read_timeout_seconds = 1800  # fixed when the class was made; bound copies inherit


def _serve(conn: Any) -> None:
    """The child: the whole local stack, until the parent says stop."""
    stack = LocalStack(api_port=0).start(seed=False)
    conn.send({"env": stack.env, "moto_url": stack.moto_url, "api_url": stack.api_url})
    conn.recv()
    stack.stop()


def _record(activity_items: int) -> dict[str, Any]:
    rich = next(r for r in json.loads(DEMO_CUSTOMERS.read_text()) if r["customerId"] == "C-1007")
    return {
        **rich,
        "customerId": MEMBER,
        "activity": [
            {
                "id": f"A{i}",
                "at": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
                "type": "purchase" if i % 3 else "email-open",
                "amount": round(i * 0.37 % 250, 2),
                "channel": ("web", "app", "store")[i % 3],
            }
            for i in range(activity_items)
        ],
    }


def _traced(work: Callable[[], Any]) -> tuple[Any, float, int]:
    """The work's answer, seconds and peak traced bytes."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    try:
        answer = work()
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return answer, seconds, peak


def _plain_query(deps: ExportingStores) -> int:
    return sum(1 for _ in deps.customers.records(MEMBER))


def _end_to_end(api: ApiClient) -> tuple[dict[str, Any], float]:
    request_id = api.submit(MEMBER, {"type": "EXPORT", "identityVerified": True})["requestId"]
    start = time.perf_counter()
    api.confirm(request_id)
    while (request := api.request(request_id))["status"] not in ("COMPLETED", "FAILED"):
        time.sleep(1)
    seconds = time.perf_counter() - start
    assert request["status"] == "COMPLETED", request
    return request, seconds


MIB = 1024 * 1024


def _report(
    items: int,
    seed_s: float,
    query: tuple[float, int],
    stream: tuple[float, int],
    produced: dict[str, Any],
) -> None:
    print(f"export of a member with {ACTIVITY_ITEMS:,} activity items ({items:,} items in all)")
    print(
        f"  file: {produced['rows']:,} rows, {produced['bytes'] / MIB:.1f} MiB, sha256 "
        f"{produced['sha256'][:16]}..."
    )
    print(f"  seeding the items (batch writes)          {seed_s:>8.1f} s")
    print("  in-process, under tracemalloc:                time     peak memory")

    def line(label: str, seconds: float, peak: int, note: str) -> None:
        print(f"  {label:<42}{seconds:>8.1f} s {peak / MIB:>9.1f} MiB  {note}", flush=True)

    line("plain query of the same items", *query, "baseline: no CSV, no S3")
    line("streamed export (query -> CSV -> parts)", *stream, "the export's own write_export")
    whole = produced["bytes"] / MIB
    print(f"  (building the same file whole in memory would need at least {whole:.1f} MiB)")


def main() -> None:
    # Inherited by the child: the handlers' logs and EMF metrics would bury the figures.
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    context = multiprocessing.get_context("spawn")
    parent_end, child_end = context.Pipe()
    child = context.Process(target=_serve, args=(child_end,), daemon=True)
    child.start()
    try:
        started = parent_end.recv()
        os.environ.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION=REGION,
            AWS_ENDPOINT_URL=started["moto_url"],
        )
        os.environ.update(started["env"])
        # Benches before this one ran their stacks in this process: their clients are stale.
        forget_previous_stack()
        model = bind(CustomerItem, started["env"]["CUSTOMERS_TABLE"])
        start = time.perf_counter()
        with model.batch_write() as batch:
            for item in customer_items(model, _record(ACTIVITY_ITEMS)):
                batch.save(item)
        seed_s = time.perf_counter() - start

        deps = export_step.dependencies()
        items, query_s, query_peak = _traced(lambda: _plain_query(deps))
        produced, stream_s, stream_peak = _traced(
            lambda: write_export(f"bench-{uuid.uuid4().hex}", MEMBER, deps)
        )
        _report(items, seed_s, (query_s, query_peak), (stream_s, stream_peak), produced)
        api = ApiClient(started["api_url"], "dev:bench:agent", timeout=1800)
        request, e2e_s = _end_to_end(api)
        result = request["result"]
        print(
            f"  end to end, confirm -> COMPLETED          {e2e_s:>8.1f} s   (through the workflow, "
            f"untraced: {result['rows']:,} rows, {result['bytes'] / MIB:.1f} MiB)"
        )
    finally:
        parent_end.send("stop")
        child.join(timeout=30)


if __name__ == "__main__":
    main()
