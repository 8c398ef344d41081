"""A re-permission campaign on the local stack: time and AWS calls (by operation) of the
enrolment phase and of the outcome phase (REVOKE), against a baseline measured in the same run:
the same revocations recorded one by one through record_consent directly, on a second set of
customers of the same size in the same tables.

Phase times come from the campaign's own audit entries (STARTED -> ENROLLED, DEADLINE_REACHED ->
COMPLETED). Calls are counted in this process (the handlers run in it), except the bench's own
polling (it reads the campaign item from the main thread).

moto copies every table a transaction touches (for its rollback), so each revocation costs time
proportional to the tables' size: the outcome phase and the baseline grow quadratically on moto,
unlike on DynamoDB. REPERMISSION_BENCH_CUSTOMERS sizes the enrolment campaign (2,000 in `make
bench`) and REPERMISSION_BENCH_OUTCOME the campaign whose outcome is applied (and its baseline;
200): 10,000 and 1,000 took more than `make bench`'s 20 minutes on their own on 2 shared cores."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pynamodb.settings

from functions.campaigns.handler import apply_batch
from functions.consents.rules import CAMPAIGN_SOURCE, ConsentChoice
from functions.consents.service import record_consent
from functions.shared.models import ALL_MODELS, AuditEntryItem, CustomerItem, bind
from infra.local.stack import LocalStack
from privacyctl.client import ApiClient
from tests.bench.calls import counted_calls
from tests.bench.sizes import size

# As in tests/bench/export.py: a transaction on moto copies the tables it touches and can outlast
# pynamodb's 30 s read timeout on large tables; a client retry of a committed transaction would
# then fail its own condition.
pynamodb.settings.default_settings_dict["read_timeout_seconds"] = 1800
for _model in ALL_MODELS:
    _model.Meta.read_timeout_seconds = 1800  # fixed when the class was made; bound copies inherit

ENROL_CUSTOMERS = size("REPERMISSION_BENCH_CUSTOMERS", 2_000, 6)
OUTCOME_CUSTOMERS = size("REPERMISSION_BENCH_OUTCOME", 200, 4)
PAGE_SIZE = 200


def aws_calls() -> AbstractContextManager[Counter[str]]:
    """Every AWS call the handlers make, as 'service:Operation'; the main thread's own polling
    is left out."""
    main = threading.main_thread()
    return counted_calls(
        lambda service, operation: (
            f"{service}:{operation}" if threading.current_thread() is not main else None
        )
    )


def _seed(stack: LocalStack, prefix: str, topic: str, count: int) -> list[str]:
    model = bind(CustomerItem, stack.env["CUSTOMERS_TABLE"])
    ids = [f"{prefix}-{i:06d}" for i in range(count)]
    with model.batch_write() as batch:
        for customer_id in ids:
            profile = {"email": f"{customer_id.lower()}@example.com", "firstName": "Bench"}
            batch.save(model(customer_id, "PROFILE", data=profile))
            consent = {
                "topic": topic,
                "channel": "email",
                "granted": True,
                "at": "2026-01-10T09:00:00Z",
                "source": "preference-centre",
            }
            batch.save(model(customer_id, f"CONSENT#{topic}#email", data=consent))
    return ids


def _in(seconds: float) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _audit_times(stack: LocalStack, campaign_id: str) -> dict[str, datetime]:
    model = bind(AuditEntryItem, stack.env["AUDIT_TABLE"])
    return {
        e.event_type: datetime.fromisoformat(e.at.replace("Z", "+00:00"))
        for e in model.by_request.query(campaign_id)
    }


def _wait(api: ApiClient, campaign_id: str, done: Any, timeout: float) -> dict[str, Any]:
    """Polls the campaign item from the main thread (left out of the counts; through the API the
    gateway's thread would count each poll's Invoke and GetItem), then answers the API's view."""
    campaigns = apply_batch.dependencies().campaigns
    deadline = time.monotonic() + timeout
    while True:
        campaign = campaigns.get(campaign_id)
        view = {"phase": campaign.phase.value, "status": campaign.status.value}
        if done(view) or time.monotonic() > deadline:
            return api.call("GET", f"/repermission-campaigns/{campaign_id}")
        time.sleep(0.5)


def _seconds(times: dict[str, datetime], start: str, end: str) -> float:
    return (times[end] - times[start]).total_seconds()


def _by_operation(calls: Counter[str]) -> str:
    return ", ".join(f"{op} {n}" for op, n in calls.most_common())


def enrolment(stack: LocalStack, api: ApiClient) -> tuple[float, Counter[str], dict[str, Any]]:
    """A campaign over ENROL_CUSTOMERS consent holders, its deadline far ahead: until ENROLLED."""
    _seed(stack, "BRE", "bench-enrol", ENROL_CUSTOMERS)
    with aws_calls() as calls:
        started = api.call(
            "POST",
            "/repermission-campaigns",
            {"topic": "bench-enrol", "deadline": _in(3600), "pageSize": PAGE_SIZE},
        )
        campaign = _wait(api, started["campaignId"], lambda c: c["phase"] != "ENROLLING", 3600)
    times = _audit_times(stack, started["campaignId"])
    sfn = stack.client("stepfunctions")
    execution = stack.campaign_state_machine_arn.replace(":stateMachine:", ":execution:")
    sfn.stop_execution(executionArn=f"{execution}:{started['campaignId']}")
    return _seconds(times, "CAMPAIGN_STARTED", "CAMPAIGN_ENROLLED"), calls, campaign


def outcome(stack: LocalStack, api: ApiClient) -> tuple[float, float, Counter[str], dict]:
    """A REVOKE campaign over OUTCOME_CUSTOMERS whose deadline passes during enrolment, so the
    outcome phase follows at once: (enrol seconds, outcome seconds, outcome calls, campaign)."""
    _seed(stack, "BRO", "bench-outcome", OUTCOME_CUSTOMERS)
    with aws_calls() as calls:
        started = api.call(
            "POST",
            "/repermission-campaigns",
            {"topic": "bench-outcome", "deadline": _in(2), "pageSize": PAGE_SIZE},
        )
        campaign_id = started["campaignId"]
        _wait(
            api, campaign_id, lambda c: c["phase"] not in ("ENROLLING", "AWAITING_DEADLINE"), 3600
        )
        enrol_calls = Counter(calls)
        campaign = _wait(api, campaign_id, lambda c: c["status"] != "RUNNING", 4 * 3600)
    times = _audit_times(stack, campaign_id)
    return (
        _seconds(times, "CAMPAIGN_STARTED", "CAMPAIGN_ENROLLED"),
        _seconds(times, "CAMPAIGN_DEADLINE_REACHED", "CAMPAIGN_COMPLETED"),
        calls - enrol_calls,
        campaign,
    )


def one_by_one(stack: LocalStack) -> tuple[float, Counter[str]]:
    """The baseline: the same number of revocations, each record_consent called directly."""
    ids = _seed(stack, "BRB", "bench-baseline", OUTCOME_CUSTOMERS)
    deps = apply_batch.dependencies()
    done = threading.Event()

    def revoke_all() -> None:  # off the main thread, so that its calls are counted
        for customer_id in ids:
            choice = ConsentChoice(customer_id, "bench-baseline", "email", False, CAMPAIGN_SOURCE)
            record_consent(choice, "bench", deps, 0)
        done.set()

    with aws_calls() as calls:
        start = time.perf_counter()
        worker = threading.Thread(target=revoke_all)
        worker.start()
        worker.join()
        seconds = time.perf_counter() - start
    assert done.is_set()
    return seconds, calls


def main() -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    stack = LocalStack(api_port=0).start(seed=False)
    api = ApiClient(stack.api_url, "dev:bench:compliance", timeout=300)
    try:
        # Small tables first: each transaction of the outcome phase copies them on moto.
        base_s, base_calls = one_by_one(stack)
        small_enrol_s, outcome_s, outcome_calls, applied = outcome(stack, api)
        enrol_s, enrol_calls, enrolled = enrolment(stack, api)
    finally:
        stack.stop()

    n, m = ENROL_CUSTOMERS, OUTCOME_CUSTOMERS
    print(f"re-permission campaign on the local stack (pages of {PAGE_SIZE})")
    print(f"  enrolment, {n:,} consent holders: {enrol_s:8.1f} s  ({n / enrol_s:,.0f}/s)")
    print(
        f"    enrolled {enrolled['progress']['enrolled']:,} in {enrolled['progress']['enrolPages']}"
    )
    print(f"    pages; calls {sum(enrol_calls.values()):,}: {_by_operation(enrol_calls)}")
    progress = applied["progress"]
    print(f"  outcome REVOKE, {m:,} non-confirmers:  {outcome_s:8.1f} s  ({m / outcome_s:,.1f}/s)")
    print(
        f"    {applied['status']}: revoked {progress['revoked']:,} in {progress['outcomePages']} "
        f"pages (its enrolment: {small_enrol_s:.1f} s)"
    )
    print(f"    calls {sum(outcome_calls.values()):,}: {_by_operation(outcome_calls)}")
    print(
        f"  baseline: {m:,} record_consent calls one by one: {base_s:8.1f} s  ({m / base_s:,.1f}/s)"
    )
    print(f"    calls {sum(base_calls.values()):,}: {_by_operation(base_calls)}")
    print(f"  outcome phase / baseline: {outcome_s / base_s:.2f}x time")


if __name__ == "__main__":
    main()
