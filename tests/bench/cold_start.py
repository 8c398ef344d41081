"""Import time of the API handler module (what a Lambda cold start pays before the first request)
against a bare `import boto3` in fresh interpreters of the same run."""

from __future__ import annotations

import statistics
import subprocess
import sys

from tests.bench.sizes import size

RUNS = size(None, 7, 1)
PROBE = (
    "import time; t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"
)
ENV_FOR_IMPORT = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "PATH": "/usr/bin:/bin",
}


def import_ms(module: str) -> float:
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)],
            capture_output=True,
            text=True,
            check=True,
            env=ENV_FOR_IMPORT,
        ).stdout
        samples.append(float(out.strip().splitlines()[-1]))
    return statistics.median(samples)


def main() -> None:
    baseline = import_ms("boto3")
    handler = import_ms("functions.api.handler")
    print(f"cold start imports (median of {RUNS} fresh interpreters)")
    print(f"  import boto3                    {baseline:8.1f} ms  (baseline)")
    print(f"  import functions.api.handler    {handler:8.1f} ms  ({handler / baseline:.1f}x)")


if __name__ == "__main__":
    main()
