"""FORGET of a customer with 10,000 activity items (FORGET_BENCH_ITEMS; 100,000 take about ten
minutes on moto, outside make bench's 20): DynamoDB calls, the Forget invocations (bounded
chunks) and time from confirm to COMPLETED, against baselines measured in the same run on the
same moto: the same forget of a demo-sized customer, and deleting up to 10,000 of the items one
DeleteItem call at a time."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from contextlib import AbstractContextManager

from functions.shared.models import CustomerItem, bind
from infra.local import dispatch
from infra.local.stack import DEMO_CUSTOMERS, LocalStack
from privacyctl.client import ApiClient
from tests.bench.calls import counted_calls
from tests.bench.sizes import size

ACTIVITY_ITEMS = size("FORGET_BENCH_ITEMS", 10_000, 50)
# The one-call-per-item reference, capped: 100,000 single deletes take minutes and prove nothing.
NAIVE_ITEMS = min(ACTIVITY_ITEMS, 10_000)


def dynamodb_calls() -> AbstractContextManager[Counter[str]]:
    """Counts every DynamoDB call made in this process, by operation."""
    return counted_calls(lambda service, operation: operation if service == "dynamodb" else None)


def _record(customer_id: str, activity_items: int) -> dict:
    record = {**json.loads(DEMO_CUSTOMERS.read_text())[0], "customerId": customer_id}
    record["relations"] = []
    record["activity"] = [
        {"id": f"A{i}", "at": f"2026-01-01T00:00:{i % 60:02d}Z", "type": "view", "amount": i}
        for i in range(activity_items)
    ]
    return record


def forget(stack: LocalStack, customer_id: str) -> tuple[float, Counter[str], int]:
    """Seconds and DynamoDB calls (and, as "ForgetInvocations", the chunks) from confirm to
    COMPLETED; and the items the customer had."""
    api = ApiClient(stack.api_url, "dev:bench:agent")
    model = bind(CustomerItem, stack.env["CUSTOMERS_TABLE"])
    # Keys only: moto answers a full-item page of a 100,000-item partition too slowly.
    items = sum(1 for _ in model.query(customer_id, attributes_to_get=["customerId", "sk"]))
    request_id = api.submit(customer_id, {"type": "FORGET", "identityVerified": True})["requestId"]
    sfn = stack.client("stepfunctions")
    execution = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{request_id}"
    chunks: list[str] = []

    def count_chunks(function_name: str, payload: dict) -> None:
        if function_name.endswith("-Forget"):
            chunks.append(function_name)

    dispatch.add_fault(count_chunks)
    with dynamodb_calls() as calls:
        start = time.perf_counter()
        api.confirm(request_id)
        # Poll Step Functions, not the API, so the count holds only the workflow's own calls.
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
            time.sleep(0.02)
        seconds = time.perf_counter() - start
    dispatch.remove_fault(count_chunks)
    calls["ForgetInvocations"] = len(chunks)
    assert api.request(request_id)["status"] == "COMPLETED"
    return seconds, calls, items


def delete_one_by_one(stack: LocalStack, customer_id: str) -> tuple[float, int]:
    model = bind(CustomerItem, stack.env["CUSTOMERS_TABLE"])
    keys = [item.sk for item in model.query(customer_id, attributes_to_get=["customerId", "sk"])]
    dynamodb = stack.client("dynamodb")
    start = time.perf_counter()
    for sk in keys:
        dynamodb.delete_item(
            TableName=stack.env["CUSTOMERS_TABLE"],
            Key={"customerId": {"S": customer_id}, "sk": {"S": sk}},
        )
    return time.perf_counter() - start, len(keys)


def main() -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    stack = LocalStack(api_port=0).start(seed=False)
    try:
        # Seeded one at a time: moto deep-copies every table on each TransactWriteItems (for its
        # rollback), so items left in the table would slow every later run, unlike DynamoDB.
        stack.seed([_record(c, 0) for c in ("BF-warm", "BF-small")])
        forget(stack, "BF-warm")  # imports and first invocations: not what we measure
        small_s, small_calls, small_items = forget(stack, "BF-small")
        stack.seed([_record("BF-large", ACTIVITY_ITEMS)])
        large_s, large_calls, large_items = forget(stack, "BF-large")
        stack.seed([_record("BF-naive", NAIVE_ITEMS)])
        naive_s, naive_calls = delete_one_by_one(stack, "BF-naive")
    finally:
        stack.stop()

    def line(label: str, seconds: float, calls: int, items: int, note: str = "") -> None:
        print(f"  {label:<44}{items:>7} items {calls:>6} calls {seconds * 1000:>9.0f} ms  {note}")

    print("forget on the local stack (confirm -> COMPLETED, DynamoDB calls of the workflow)")

    def total(calls: Counter[str]) -> int:
        return sum(n for op, n in calls.items() if op != "ForgetInvocations")

    line("forget, demo-sized customer", small_s, total(small_calls), small_items, "baseline")
    line(
        f"forget, {ACTIVITY_ITEMS:,} activity items",
        large_s,
        total(large_calls),
        large_items,
        f"({large_s / small_s:.1f}x time; items/25 = {large_items // 25}; "
        f"{large_calls['ForgetInvocations']} Forget invocations)",
    )
    line(
        f"delete {NAIVE_ITEMS:,} items one call each",
        naive_s,
        naive_calls,
        naive_calls,
        "reference",
    )
    print(
        f"  calls by operation ({ACTIVITY_ITEMS:,}-item forget): "
        + ", ".join(f"{op} {n}" for op, n in large_calls.most_common())
    )


if __name__ == "__main__":
    main()
