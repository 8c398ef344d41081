"""Submit -> confirm -> COMPLETED on the local stack, median of 20, against a baseline in the same
run: a one-state (Pass) state machine's execution on the same moto, the executor's own floor."""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid

from infra.local.stack import DEMO_CUSTOMERS, LocalStack
from privacyctl.client import ApiClient
from tests.bench.sizes import size

RUNS = size(None, 20, 2)


def _until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.01)


def pass_machine_ms(stack: LocalStack) -> float:
    sfn = stack.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="bench-pass",
        roleArn="arn:aws:iam::123456789012:role/bench",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
    )["stateMachineArn"]
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        execution = sfn.start_execution(stateMachineArn=arn, name=uuid.uuid4().hex)["executionArn"]
        _until(lambda e=execution: sfn.describe_execution(executionArn=e)["status"] == "SUCCEEDED")
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def cease_ms(stack: LocalStack) -> tuple[float, float]:
    api = ApiClient(stack.api_url, "dev:bench:agent")
    template = json.loads(DEMO_CUSTOMERS.read_text())[0]
    samples = []
    for i in range(RUNS):
        stack.seed([{**template, "customerId": f"B-{i}"}])
        start = time.perf_counter()
        submitted = api.submit(f"B-{i}", {"type": "CEASE_MARKETING", "identityVerified": True})
        api.confirm(submitted["requestId"])
        _until(lambda r=submitted["requestId"]: api.request(r)["status"] == "COMPLETED")
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    # Keep the figures readable: the handlers' logs and EMF metrics would interleave with them.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    stack = LocalStack(api_port=0).start(seed=False)
    try:
        baseline = pass_machine_ms(stack)
        median, worst = cease_ms(stack)
    finally:
        stack.stop()
    print(f"end to end on the local stack (median of {RUNS})")
    print(f"  one Pass state, start -> SUCCEEDED        {baseline:8.1f} ms  (baseline)")
    print(
        f"  cease: submit -> confirm -> COMPLETED     {median:8.1f} ms  "
        f"({median / baseline:.1f}x; worst {worst:.0f} ms)"
    )


if __name__ == "__main__":
    main()
