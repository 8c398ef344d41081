"""`make bench`: every benchmark, one after another in this process, each printing its figures
next to a baseline measured in the same run. BENCH_QUICK=1 runs them at tiny sizes (what `make
test` does, so a broken bench fails CI). A bench that fails is reported and the others still
run; the exit status says whether all of them finished."""

import os
import sys
import time
import traceback

# Before the handlers' modules are imported (their loggers read the level then): their INFO
# lines and EMF metrics would bury the figures.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

from tests.bench import (
    audience_filter,
    audience_split,
    audit,
    cold_start,
    consent,
    end_to_end,
    export,
    forget,
    public_timing,
    repermission,
)
from tests.bench.sizes import QUICK

# The audience filter first: its peak memory is read from ru_maxrss in processes forked from
# this one, and Linux carries a forked process's peak across exec, so measured after the export
# and audit benches have grown this process it reported their 2.8 GB, not its own 0.2.
BENCHES = (
    audience_filter,
    cold_start,
    end_to_end,
    forget,
    export,
    audit,
    consent,
    audience_split,
    repermission,
    public_timing,
)


def main() -> int:
    failed: list[str] = []
    timings: list[tuple[str, float]] = []
    started = time.perf_counter()
    for bench in BENCHES:
        name = bench.__name__.rsplit(".", 1)[-1]
        print(f"\n== {name}{' (quick)' if QUICK else ''}", flush=True)
        start = time.perf_counter()
        try:
            bench.main()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        timings.append((name, time.perf_counter() - start))
        sys.stdout.flush()
    print(f"\n== every bench in {time.perf_counter() - started:.0f} s")
    for name, seconds in timings:
        print(f"  {name:<16}{seconds:7.0f} s{'  FAILED' if name in failed else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
