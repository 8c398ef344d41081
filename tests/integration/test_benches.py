"""Every bench of `make bench`, at tiny sizes (BENCH_QUICK=1), in one process as `make bench`
runs them: a bench that no longer runs fails CI. Their figures are printed, never asserted
(wall-clock times on a shared machine say nothing about correctness)."""

from __future__ import annotations

import subprocess
import sys

from tests.bench.__main__ import BENCHES
from tests.integration.processes import ROOT, clean_env


def test_every_bench_runs_in_quick_mode():
    env = clean_env(BENCH_QUICK="1")
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    for bench in BENCHES:
        assert f"== {bench.__name__.rsplit('.', 1)[-1]} (quick)" in output
    assert "FAILED" not in output and "Traceback" not in output, output[-4000:]
