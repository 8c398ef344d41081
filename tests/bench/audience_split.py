"""The split path's own costs on the 1,000,000-row bench file of tests/bench/audience_filter.py
(and a copy of it that quotes a field in every row), against baselines measured in the same run:
packing and loading the index snapshot of 1,000,000 hashes (baseline: pickle of the same dict),
planning parts on record boundaries (baseline: the raw byte copy of the file), and screening the
file as parts of one Screener (baseline: screening it in one piece). BENCH_SPLIT_ROWS overrides
the row count."""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import time
from pathlib import Path

from functions.audience_filter import snapshot
from functions.audience_filter.engine import Screener, Screening
from functions.audience_filter.jobs import Format
from functions.audience_filter.parts import plan_parts
from functions.shared.identifiers import IdentifierKind, KeyedHasher
from tests.bench.audience_filter import KEY, generate, index_for
from tests.bench.sizes import size

ROWS = size("BENCH_SPLIT_ROWS", 1_000_000, 2_000)
PART_BYTES = size(None, 8 * 1024 * 1024, 32 * 1024)


def _timed(fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _quoted(path: Path) -> Path:
    """The same rows with the first name quoted ("Name, n"): every row takes the general path
    and the planner must walk records instead of lines."""
    target = path.with_name(path.stem + "-quoted.csv")
    if not target.exists():
        with path.open("rb") as src, target.open("wb") as dst:
            dst.write(src.readline())
            for line in src:
                fields = line.split(b",")
                fields[3] = b'"' + fields[3].replace(b" ", b", ") + b'"'
                dst.write(b",".join(fields))
    return target


def main() -> None:
    hasher = KeyedHasher(KEY)
    source = generate(ROWS)
    index = index_for(ROWS, hasher)
    print(f"\naudience split path ({ROWS:,} rows, index of {len(index):,} hashes)")

    pack_s, blob = _timed(lambda: snapshot.pack(index))
    unpack_s, _ = _timed(lambda: snapshot.unpack(blob))  # type: ignore[arg-type]
    pickled_s, pickled = _timed(lambda: pickle.dumps(index))
    unpickle_s, _ = _timed(lambda: pickle.loads(pickled))  # type: ignore[arg-type]
    print(
        f"  snapshot pack / load                {pack_s:6.2f} s / {unpack_s:5.2f} s"
        f"  {len(blob) / 2**20:6.1f} MiB"
    )  # type: ignore[arg-type]
    print(
        f"  baseline: pickle dumps / loads      {pickled_s:6.2f} s / {unpickle_s:5.2f} s"
        f"  {len(pickled) / 2**20:6.1f} MiB"
    )  # type: ignore[arg-type]

    screener = Screener(Screening(((IdentifierKind.EMAIL, "email"),), Format.CSV), index, hasher)
    with tempfile.TemporaryDirectory(prefix="bench-split-") as tmp:
        copy_s, _ = _timed(lambda: shutil.copyfile(source, Path(tmp) / "copy"))
        print(f"  baseline: raw byte copy             {copy_s:6.2f} s")
        for label, path in (("unquoted", source), ("quoted", _quoted(source))):
            with path.open("rb") as f:
                header = screener.read_header(f)
            assert header is not None
            body = path.stat().st_size - header.body_start
            count = max(1, body // PART_BYTES)
            plan_s, plan = _timed(
                lambda p=path, h=header, c=count: plan_parts(p, h, c, Format.CSV, PART_BYTES)
            )
            whole_s, _ = _timed(lambda p=path, h=header: _screen(screener, p, h, None))
            parts_s, _ = _timed(lambda p=path, h=header, pl=plan: _screen(screener, p, h, pl))
            print(
                f"  {label:>8}: plan {len(plan)} parts            {plan_s:6.2f} s"
                f"  ({plan_s / copy_s:.1f}x the byte copy)"
            )  # type: ignore[arg-type]
            print(f"            screen in one piece / as parts {whole_s:6.2f} s / {parts_s:6.2f} s")


def _screen(screener: Screener, path: Path, header, plan) -> None:  # type: ignore[no-untyped-def]
    with path.open("rb") as f, open(os.devnull, "wb") as out:
        for part in plan or [None]:
            screener.screen(f, out, header, part)


if __name__ == "__main__":
    main()
