"""Every bench's sizes: the full figures by default (`make bench`), tiny ones with BENCH_QUICK=1
(tests/integration/test_benches.py runs every bench that way in `make test`, so a broken bench
fails CI; its figures mean nothing and are never asserted). A bench's own variable, when set,
wins over both."""

from __future__ import annotations

import os

QUICK = os.environ.get("BENCH_QUICK") == "1"


def size(variable: str | None, full: int, quick: int) -> int:
    if variable and os.environ.get(variable):
        return int(os.environ[variable])
    return quick if QUICK else full


def sizes(variable: str, full: str, quick: str) -> list[int]:
    raw = os.environ.get(variable) or (quick if QUICK else full)
    return [int(n) for n in raw.split(",")]
