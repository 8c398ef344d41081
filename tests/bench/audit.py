"""The audit chain's throughput ceiling on the local stack.

Appends per second with 1 and 8 concurrent writers, each append being the product's own chained
transaction (the deadline check's record_event: a condition on the request, the entry, the head's
advance), against two baselines measured in the same run on the same moto: the same transaction
without the chain head, and a plain conditional PutItem of the entry. Every configuration gets
fresh tables, because moto copies each table a transaction touches.

Then verification speed: checking 100,000 entries (hashes, positions, links) as linked by the
writer's own code; and GET /audit/verify's service end to end on the stack, against reading the
same entries alone (parallel scan). The stored trail is smaller (STORED_ENTRIES) because moto's
Scan re-walks the table from the start for every page: at 100,000 entries a single page outlasts
botocore's read timeout, which measures the emulator, not the product."""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from functions.audit.repository import AuditRepository
from functions.audit.service import DEADLINE_ACTOR, verify_trail
from functions.requests.dependencies import Stores
from functions.requests.lifecycle import record_event
from functions.requests.repository import RequestRepository, to_domain
from functions.shared.audit_chain import ChainHead, verify
from functions.shared.audit_keys import KmsEntryMacs
from functions.shared.clock import utc_now
from functions.shared.customers import CustomerRepository
from functions.shared.domain import RequestStatus, RequestType
from functions.shared.errors import TransientError
from functions.shared.identifiers import KeyedHasher
from functions.shared.models import (
    AuditChainItem,
    AuditEntryItem,
    Tables,
)
from functions.shared.suppression import SuppressionRepository
from functions.shared.unit_of_work import CHAIN_ID, AuditChain, UnitsOfWork
from infra.local.stack import LocalStack
from tests.bench.sizes import size

APPENDS_PER_RUN = size(None, 400, 16)
VERIFY_ENTRIES = size(None, 100_000, 200)
STORED_ENTRIES = size(None, 5_000, 50)
MAC_SAMPLE = size(None, 2_000, 20)
HASHER = KeyedHasher(b"b" * 32)


@dataclass
class Run:
    label: str
    writers: int
    appends: int
    seconds: float
    latencies: list[float]
    lost_races: int = 0
    gave_up: int = 0

    def line(self, baseline: Run | None = None) -> str:
        rate = self.appends / self.seconds
        p50 = statistics.median(self.latencies) * 1000
        p99 = sorted(self.latencies)[int(len(self.latencies) * 0.99) - 1] * 1000
        text = (
            f"  {self.label:<34}{self.writers:>3} writers {rate:>8.1f} appends/s"
            f"  p50 {p50:>6.1f} ms  p99 {p99:>6.1f} ms"
        )
        if self.lost_races or self.label.startswith("chained"):
            text += f"  lost races {self.lost_races} ({self.lost_races / self.appends:.2f}/append)"
            text += f", gave up {self.gave_up}"
        if baseline is not None:
            text += f"  ({rate / (baseline.appends / baseline.seconds):.2f}x baseline)"
        return text


class _NoMilestones:
    """The bench's tables have no digest function: appends alone are measured."""

    def passed(self, before: int, after: int) -> None:
        pass


class _NoDigests:
    """The bench's tables have no digest bucket: verification checks the chain alone."""

    def all(self) -> list[object]:
        return []


def _tables() -> Tables:
    suffix = uuid.uuid4().hex[:8]
    tables = Tables.named(
        customers=f"bench-customers-{suffix}",
        requests=f"bench-requests-{suffix}",
        audit=f"bench-audit-{suffix}",
        suppression=f"bench-suppression-{suffix}",
        audit_chain=f"bench-audit-chain-{suffix}",
    )
    for model in (tables.requests, tables.audit, tables.audit_chain):
        model.create_table(wait=True)
    return tables


def _request(tables: Tables, writer: int):
    now = utc_now()
    item = tables.requests(
        uuid.uuid4().hex,
        customer_id=f"BENCH-{writer}",
        type=RequestType.CEASE_MARKETING.value,
        status=RequestStatus.AWAITING_CONFIRMATION.value,
        submitted_by="bench",
        identity_verified_by="bench",
        identity_verified_at=now,
        created_at=now,
        updated_at=now,
        confirm_by=now,
    )
    item.save()
    return to_domain(item)


def _entry(tables: Tables, request_id: str, n: int) -> AuditEntryItem:
    return tables.audit(
        f"{request_id}#BENCH_{n:06d}",
        at=utc_now(),
        seq=2,
        request_id=request_id,
        request_type=RequestType.CEASE_MARKETING.value,
        event_type=f"BENCH_{n:06d}",
        actor="bench",
        outcome="SUCCEEDED",
        customer_hash=HASHER.customer("BENCH"),
        details={"n": n},
        chain_seq=0,
        prev_hash="-",
        entry_hash="-",
    )


def _measure(label: str, writers: int, append: Callable[[Tables, int, int, object], None]) -> Run:
    tables = _tables()
    per_writer = APPENDS_PER_RUN // writers
    latencies: list[float] = []
    lock = threading.Lock()
    chains: list[AuditChain] = []
    start_line = threading.Barrier(writers + 1)
    gave_up: list[int] = []

    def writer(number: int) -> None:
        stores = Stores(
            hasher=HASHER,
            customers=CustomerRepository(tables.customers, HASHER),
            requests=RequestRepository(tables.requests),
            suppression=SuppressionRepository(tables.suppression),
            work=UnitsOfWork(
                tables.audit,
                AuditChain(tables.audit_chain),
                KmsEntryMacs(os.environ["AUDIT_KEY_ID"]),
                _NoMilestones(),
                Connection(),
            ),
        )
        chains.append(stores.work.chain)
        request = _request(tables, number)
        context = (stores, request, Connection())
        start_line.wait()
        for n in range(per_writer):
            began = time.perf_counter()
            try:
                append(tables, number, n, context)
            except TransientError:  # MAX_ATTEMPTS lost races: the caller would retry later
                gave_up.append(n)
                continue
            with lock:
                latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    lost = sum(c.lost_races for c in chains)
    if label.startswith("chained"):
        head = AuditChain(tables.audit_chain).head()
        entries = [i.to_simple_dict() for i in tables.audit.scan()]
        result = verify(entries, head)
        assert result.intact, "the chain broke"
        assert head.seq == result.checked == len(latencies), "an append went missing"
    return Run(label, writers, len(latencies), seconds, latencies, lost, len(gave_up))


def chained(tables: Tables, writer: int, n: int, context) -> None:
    stores, request, _ = context
    event = f"BENCH_{n:06d}"
    unchanged = [stores.requests.unchanged(request)]
    record_event(stores, request, event, DEADLINE_ACTOR, {"n": n}, with_writes=unchanged)


def unchained_transaction(tables: Tables, writer: int, n: int, context) -> None:
    _, request, connection = context
    with TransactWrite(connection=connection) as tw:
        tw.condition_check(
            tables.requests,
            request.request_id,
            condition=tables.requests.status == request.status.value,
        )
        tw.save(
            _entry(tables, request.request_id, n),
            condition=tables.audit.entry_id.does_not_exist(),
        )


def plain_put(tables: Tables, writer: int, n: int, context) -> None:
    _, request, _ = context
    _entry(tables, request.request_id, n).save(condition=tables.audit.entry_id.does_not_exist())


def _linked(tables: Tables, count: int) -> tuple[list[AuditEntryItem], ChainHead]:
    """A valid chain of `count` entries, linked by the writer's own code."""
    head, entries = ChainHead(), []
    for n in range(count):
        entry = _entry(tables, f"r{n // 4:07d}", n)
        head = AuditChain._link(head, [entry])
        entries.append(entry)
    return entries, head


def _build_trail(count: int) -> tuple[type[AuditEntryItem], type[AuditChainItem]]:
    """A valid chain of `count` entries, batch-written to fresh tables on the stack."""
    tables = _tables()
    entries, head = _linked(tables, count)
    with tables.audit.batch_write() as batch:
        for entry in entries:
            batch.save(entry)
    tables.audit_chain(
        CHAIN_ID, seq=head.seq, head_hash=head.hash, at=head.at, entry_id="last"
    ).save()
    return tables.audit, tables.audit_chain


def main() -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    stack = LocalStack(api_port=0).start(seed=False)
    try:
        _measure("warm-up", 1, plain_put)
        runs = {}
        for writers in (1, 8):
            runs[("put", writers)] = _measure("plain conditional PutItem", writers, plain_put)
            runs[("tx", writers)] = _measure(
                "transaction without chain", writers, unchained_transaction
            )
            runs[("chain", writers)] = _measure("chained (entry + head)", writers, chained)
        build_began = time.perf_counter()
        audit_model, chain_model = _build_trail(STORED_ENTRIES)
        build_seconds = time.perf_counter() - build_began
        repository = AuditRepository(audit_model, AuditChain(chain_model))
        began = time.perf_counter()
        result = verify_trail(repository, _NoDigests(), None)  # type: ignore[arg-type]
        verify_seconds = time.perf_counter() - began
        began = time.perf_counter()
        read = list(repository.everything())
        read_seconds = time.perf_counter() - began
        began = time.perf_counter()
        linked, head = _linked(_tables(), VERIFY_ENTRIES)
        records = [entry.to_simple_dict() for entry in linked]
        prepare_seconds = time.perf_counter() - began
        began = time.perf_counter()
        check = verify(records, head)
        check_seconds = time.perf_counter() - began
        # Keyed: every entry carries a MAC; the head's is verified with KMS (an intact chain
        # whose head verifies is authentic throughout). The other MACs are stand-ins: the check
        # only requires that none is missing.
        macs = KmsEntryMacs(os.environ["AUDIT_KEY_ID"])
        for record in records:
            record["entryMac"] = "stand-in"
        records[-1]["entryMac"] = macs.mac(head.hash)
        began = time.perf_counter()
        keyed = verify(records, head, (), macs)
        keyed_seconds = time.perf_counter() - began
        # What verifying every MAC would cost instead: VerifyMac per entry, 8 at a time.
        sample = [(r["entryHash"], macs.mac(r["entryHash"])) for r in records[:MAC_SAMPLE]]
        began = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            every_mac = list(pool.map(lambda pair: macs.valid(*pair), sample))
        every_mac_seconds = time.perf_counter() - began
    finally:
        stack.stop()

    print(f"audit chain appends on the local stack ({APPENDS_PER_RUN} appends per line)")
    for writers in (1, 8):
        baseline = runs[("put", writers)]
        print(baseline.line())
        print(runs[("tx", writers)].line(baseline))
        print(runs[("chain", writers)].line(baseline))
    assert result.intact and result.checked == len(read) == STORED_ENTRIES
    assert check.intact and check.checked == VERIFY_ENTRIES
    assert keyed.intact and keyed.macs_checked == 1 and all(every_mac)

    def rate(count: int, seconds: float, label: str, note: str = "") -> None:
        print(f"  {label:<46}{count / seconds:>10,.0f} entries/s {seconds:>7.1f} s  {note}")

    print(f"verification ({STORED_ENTRIES:,} entries stored on the stack in {build_seconds:.0f} s)")
    rate(STORED_ENTRIES, verify_seconds, "GET /audit/verify's service (read + check)")
    rate(STORED_ENTRIES, read_seconds, "read alone (parallel scan of moto)", "baseline")
    print(f"verification check over {VERIFY_ENTRIES:,} entries (linked in {prepare_seconds:.0f} s)")
    rate(VERIFY_ENTRIES, check_seconds, "hashes, positions and links, in memory", "baseline")
    rate(VERIFY_ENTRIES, keyed_seconds, "the same, keyed (the head's MAC through KMS)")
    rate(MAC_SAMPLE, every_mac_seconds, "VerifyMac of every entry instead (8 threads)")


if __name__ == "__main__":
    main()
