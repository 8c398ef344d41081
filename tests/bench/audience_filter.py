"""Audience filter on generated files of 1,000,000 and 10,000,000 rows (6 columns, 5% suppressed
by e-mail and another 5% by phone, an index of 1,000,000 keyed hashes), against baselines measured
in the same run on the same file: the raw byte copy, a plain Python csv read-and-write, and a
naive filter that looks each row up in DynamoDB (a 10,000-row sample on the local stack,
extrapolated). The filter screens by the e-mail column, by the phone column (E.164, the fast
path) and by both, one worker each, beside the e-mail column with every worker.

Generated files are cached under $TMPDIR/privacy-bench-audience/ by size. BENCH_AUDIENCE_ROWS
(comma-separated row counts) overrides the sizes for quick runs."""

from __future__ import annotations

import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from functions.audience_filter.engine import Screener, Screening
from functions.audience_filter.jobs import Format
from functions.audience_filter.parts import screen_file
from functions.shared.identifiers import IdentifierKind, KeyedHasher
from functions.shared.models import SuppressionItem, bind
from functions.shared.suppression import SuppressionRepository
from infra.local.stack import LocalStack
from tests.bench.sizes import size, sizes

# `make bench` screens the 1,000,000-row file (the 10,000,000-row one alone takes about 5 of its
# 20 minutes on 2 shared cores): BENCH_AUDIENCE_ROWS=1000000,10000000 for both.
SIZES = sizes("BENCH_AUDIENCE_ROWS", "1000000", "2000")
INDEX_SIZE = size(None, 1_000_000, 1_000)
SUPPRESSED_EVERY = 20  # 5% by e-mail, 5% by phone
PHONE_OFFSET = SUPPRESSED_EVERY // 2
COLUMNS = {
    "filter": ((IdentifierKind.EMAIL, "email"),),
    "filter-phone": ((IdentifierKind.PHONE, "phone"),),
    "filter-both": ((IdentifierKind.EMAIL, "email"), (IdentifierKind.PHONE, "phone")),
}
NAIVE_SAMPLE = size(None, 10_000, 20)
KEY = bytes(range(32))
CACHE = Path(tempfile.gettempdir()) / "privacy-bench-audience"
# Quoted only where needed, as csv.writer writes (QUOTE_MINIMAL): these rows need none.
HEADER = "customer_id,email,phone,first_name,city,points\n"


def _email(i: int) -> str:
    return f"User.{i}@Example.com"


def _phone(i: int) -> str:
    return f"+4479{i % 100_000_000:08d}"


def generate(rows: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"audience-{rows}.csv"
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    with partial.open("w") as f:
        f.write(HEADER)
        for start in range(0, rows, 100_000):
            f.write(
                "".join(
                    f"C{i:09d},{_email(i)},{_phone(i)},Name {i % 997},City{i % 113},{i % 5000}\n"
                    for i in range(start, min(start + 100_000, rows))
                )
            )
    partial.rename(path)
    return path


def index_for(rows: int, hasher: KeyedHasher) -> dict[bytes, str]:
    """Every 20th row's e-mail and every 20th other row's phone, topped up with other hashes to
    INDEX_SIZE entries."""
    digest = hasher.digester(IdentifierKind.EMAIL)
    index = {digest(_email(i)): "CEASED" for i in range(0, rows, SUPPRESSED_EVERY)}
    phone = hasher.digester(IdentifierKind.PHONE)
    index |= {phone(_phone(i)): "CEASED" for i in range(PHONE_OFFSET, rows, SUPPRESSED_EVERY)}
    filler = 0
    while len(index) < INDEX_SIZE:
        index[digest(f"absent.{filler}@example.org")] = "CEASED"
        filler += 1
    return index


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the forked workers): what a
    contestant costs whatever else the machine is doing."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def byte_copy(source: Path, target: Path) -> float:
    return _timed(lambda: shutil.copyfile(source, target))


def csv_copy(source: Path, target: Path) -> tuple[float, float]:
    """Wall and CPU seconds of a plain Python csv read-and-write."""
    cpu = _cpu_seconds()

    def run() -> None:
        with source.open(newline="") as f, target.open("w", newline="") as out:
            csv.writer(out).writerows(csv.reader(f))

    return _timed(run), _cpu_seconds() - cpu


def _child(kind: str, source: str, target: str, workers: str) -> None:
    """Runs one measurement in a fresh process so its peak memory is its own."""
    rows = int(Path(source).stem.rsplit("-", 1)[1])
    hasher = KeyedHasher(KEY, "GB")
    index = index_for(rows, hasher)
    result: dict[str, object] = {}
    if kind in COLUMNS:
        screening = Screening(COLUMNS[kind], Format.CSV)
        screener = Screener(screening, index, hasher)
        with open(target, "wb") as out:
            start, cpu = time.perf_counter(), _cpu_seconds()
            counts = screen_file(screener, Path(source), out, int(workers))
            result["seconds"] = time.perf_counter() - start
            result["cpu"] = _cpu_seconds() - cpu
        result["rowsOut"], result["dropped"] = counts.rows_out, dict(counts.dropped)
    else:
        result["seconds"] = _duckdb(Path(source), Path(target), index)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result["peakMiB"] = max(own, children) / 1024
    print(json.dumps(result))


def _duckdb(source: Path, target: Path, index: dict[bytes, str]) -> float | None:
    """The strongest alternative engine: DuckDB's CSV reader and SHA-256 computing the same HMAC,
    anti-joined to the index, re-serialising every row (it cannot pass bytes through)."""
    try:
        import duckdb
    except ImportError:
        return None
    block = KEY.ljust(64, b"\0")
    ipad, opad = bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)
    con = duckdb.connect()
    con.execute("create table idx as select unnest($1::varchar[]) as h", [[d.hex() for d in index]])
    start = time.perf_counter()
    con.execute(
        f"""copy (select * from read_csv('{source}', all_varchar=true, header=true)
        where sha256($1::blob || unhex(sha256($2::blob || ('email:' || lower(trim(email)))::blob)))
        not in (select h from idx)) to '{target}' (header)""",
        [opad, ipad],
    )
    return time.perf_counter() - start


def _in_child(kind: str, source: Path, target: Path, workers: int = 1) -> dict:
    command = [sys.executable, "-m", "tests.bench.audience_filter", "--child", kind]
    command += [str(source), str(target), str(workers)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def naive_per_row(repository: SuppressionRepository, source: Path, rows: int) -> float:
    """Seconds for a per-row lookup (a Query on the identifier hash, as the repository answers
    `reasons_for`) on the local stack, measured on NAIVE_SAMPLE rows, scaled to `rows`."""
    hasher = KeyedHasher(KEY)
    with source.open(newline="") as f:
        reader = csv.reader(f)
        next(reader)
        sample = [row for _, row in zip(range(NAIVE_SAMPLE), reader, strict=False)]
    start = time.perf_counter()
    for row in sample:
        repository.reasons_for(hasher.hash(IdentifierKind.EMAIL, row[1]))
    seconds = time.perf_counter() - start
    return seconds * rows / len(sample)


def main() -> None:
    stack = LocalStack(api_port=0).start(seed=False)
    try:
        repository = SuppressionRepository(bind(SuppressionItem, stack.env["SUPPRESSION_TABLE"]))
        _measure(repository)
    finally:
        stack.stop()


def _measure(repository: SuppressionRepository) -> None:
    workers = os.cpu_count() or 1
    print(f"\naudience filter (e-mail column, index of {INDEX_SIZE:,} hashes, {workers} cores)")
    peaks = {}
    naive_per_row_seconds = naive_per_row(repository, generate(min(SIZES)), 1)
    for rows in SIZES:
        source = generate(rows)
        size_mib = source.stat().st_size / 1024 / 1024
        with tempfile.TemporaryDirectory(prefix="bench-audience-") as tmp:
            out = Path(tmp) / "out.csv"
            shutil.copyfile(source, out)  # warms the page cache for every contestant alike
            copy = byte_copy(source, out)
            python_csv, python_csv_cpu = csv_copy(source, out)
            parallel = _in_child("filter", source, out, workers)
            single = _in_child("filter", source, out, 1)
            phone = _in_child("filter-phone", source, out, 1)
            both = _in_child("filter-both", source, out, 1)
            duck = _in_child("duckdb", source, out)
        naive = naive_per_row_seconds * rows
        filt = parallel["seconds"]
        peaks[rows] = parallel["peakMiB"]
        load = os.getloadavg()[0]
        print(f"  {rows:>10,} rows, {size_mib:,.0f} MiB (load average {load:.1f} before)")
        print(f"    1. raw byte copy                      {copy:8.2f} s")
        print(
            f"    2. python csv read+write              {python_csv:8.2f} s"
            f"   cpu {python_csv_cpu:.2f} s"
        )
        print(
            f"    3. filter ({workers} workers)                 {filt:8.2f} s"
            f"   cpu {parallel['cpu']:.2f} s"
            f"   rows out {parallel['rowsOut']:,}, dropped {parallel['dropped']}"
        )
        print(
            f"       filter (1 worker)                  {single['seconds']:8.2f} s"
            f"   cpu {single['cpu']:.2f} s"
        )
        print(
            f"       filter, phone column (1 worker)    {phone['seconds']:8.2f} s"
            f"   cpu {phone['cpu']:.2f} s   dropped {phone['dropped']}"
        )
        print(
            f"       filter, e-mail + phone (1 worker)  {both['seconds']:8.2f} s"
            f"   cpu {both['cpu']:.2f} s   dropped {both['dropped']}"
        )
        print(f"    4. naive per-row DynamoDB lookup      {naive:8.0f} s  (extrapolated)")
        if duck["seconds"] is not None:
            print(f"       duckdb anti-join (not chosen)      {duck['seconds']:8.2f} s")
        print(f"    filter / byte copy                    {filt / copy:8.2f}")
        print(f"    filter / python csv copy              {filt / python_csv:8.2f}")
        print(f"    filter (1 worker) / csv copy, cpu     {single['cpu'] / python_csv_cpu:8.2f}")
        for name, run in (("phone column", phone), ("both columns", both)):
            # Wall and CPU: on a shared machine the CPU ratio is the steadier of the two.
            print(
                f"    {name} / e-mail column, 1 worker  {run['seconds'] / single['seconds']:6.2f}"
                f"   cpu {run['cpu'] / single['cpu']:.2f}"
            )
        print(f"    per-row lookups / filter              {naive / filt:8.0f}x")
        print(
            f"    peak memory: filter {parallel['peakMiB']:.0f} MiB (largest process),"
            f" 1 worker {single['peakMiB']:.0f} MiB"
        )
    if len(peaks) > 1:
        small, large = min(peaks), max(peaks)
        print(f"  peak memory {large:,} rows / {small:,} rows: {peaks[large] / peaks[small]:.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(*sys.argv[2:6])
    else:
        main()
