"""checkov on the session's synthesized template, started in the background as soon as the
synth is written (tests/infra/conftest.py) so that it runs while the other infra tests do;
tests/infra/test_checkov.py waits for its report.

checkov runs from its own virtual environment (.venv-checkov, `make setup`: its pins clash with
the project's), once, over two files: the template and a copy with an unencrypted queue added,
which proves that a new finding is caught by the very check the template passes."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = Path(os.environ.get("CHECKOV", ROOT / ".venv-checkov" / "bin" / "checkov"))
TEMPLATE = "stack.template.json"
TAMPERED = "tampered.template.json"
INJECTED = "InjectedPlainQueue"


class CheckovError(RuntimeError):
    pass


@dataclass(frozen=True)
class Finding:
    check: str
    resource: str  # e.g. AWS::SQS::Queue.FunctionsApiDeadLetters1234
    name: str

    def __str__(self) -> str:
        return f"{self.check} {self.resource}: {self.name}"


@dataclass
class Scan:
    version: str
    seconds: float
    # By file name (TEMPLATE, TAMPERED): what checkov said of each.
    passed: dict[str, int]
    failed: dict[str, list[Finding]]
    skipped: dict[str, list[Finding]]


def tampered(template: dict[str, Any]) -> dict[str, Any]:
    """What someone might add tomorrow: a queue without a key."""
    changed = copy.deepcopy(template)
    changed["Resources"][INJECTED] = {
        "Type": "AWS::SQS::Queue",
        "Properties": {"MessageRetentionPeriod": 1209600},
    }
    return changed


class CheckovRun:
    def __init__(self, directory: Path, template: dict[str, Any]) -> None:
        self._directory = directory
        self._scan: Scan | None = None
        self._error: str | None = None
        self._process: subprocess.Popen[str] | None = None
        if not CHECKOV.exists():
            self._error = f"checkov is not installed at {CHECKOV}: run `make setup`"
            return
        directory.mkdir(parents=True, exist_ok=True)
        # Indented, like CDK's own: checkov maps each resource to its lines, and on one-line
        # JSON it spends twice the time.
        (directory / TEMPLATE).write_text(json.dumps(template, indent=1))
        (directory / TAMPERED).write_text(json.dumps(tampered(template), indent=1))
        # The report is large: to a file, so that a full pipe never stalls checkov.
        self._stdout: IO[str] = (directory / "report.json").open("w")
        self._stderr: IO[str] = (directory / "stderr.txt").open("w")
        self._start = time.time()
        # --skip-download: nothing fetched from Prisma Cloud (offline, the same every run).
        self._process = subprocess.Popen(
            [
                str(CHECKOV),
                "--framework",
                "cloudformation",
                "--skip-download",
                "--output",
                "json",
                "--file",
                str(directory / TEMPLATE),
                "--file",
                str(directory / TAMPERED),
            ],
            stdout=self._stdout,
            stderr=self._stderr,
            text=True,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        )

    def result(self, timeout: float = 300) -> Scan:
        if self._scan is None and self._error is None:
            self._scan = self._wait(timeout)
        if self._error is not None:
            raise CheckovError(self._error)
        assert self._scan is not None
        return self._scan

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def _wait(self, timeout: float) -> Scan | None:
        assert self._process is not None
        try:
            code = self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.close()
            self._error = f"checkov did not finish in {timeout:.0f} s"
            return None
        finally:
            self._stdout.close()
            self._stderr.close()
        # checkov's own run time (the report's last write), not how long the tests took to ask.
        seconds = (self._directory / "report.json").stat().st_mtime - self._start
        try:
            report = json.loads((self._directory / "report.json").read_text())
        except json.JSONDecodeError:
            stderr = (self._directory / "stderr.txt").read_text()
            self._error = f"checkov exited {code} without a report:\n{stderr[-4000:]}"
            return None
        if isinstance(report, list):  # one entry per framework
            (report,) = report
        return _scan(report, seconds)


def _scan(report: dict[str, Any], seconds: float) -> Scan:
    results = report["results"]
    if report["summary"]["parsing_errors"]:
        raise CheckovError(f"checkov could not parse: {results.get('parsing_errors')}")

    def file_of(check: dict[str, Any]) -> str:
        return Path(check["file_path"]).name

    def by_file(kind: str) -> dict[str, list[Finding]]:
        found: dict[str, list[Finding]] = {TEMPLATE: [], TAMPERED: []}
        for check in results.get(kind, []):
            found[file_of(check)].append(
                Finding(check["check_id"], check["resource"], check["check_name"])
            )
        return found

    passed = Counter(file_of(check) for check in results.get("passed_checks", []))
    return Scan(
        version=report["summary"]["checkov_version"],
        seconds=seconds,
        passed={TEMPLATE: passed[TEMPLATE], TAMPERED: passed[TAMPERED]},
        failed=by_file("failed_checks"),
        skipped=by_file("skipped_checks"),
    )
