"""checkov, an outside scanner, on the synthesized template (the session's one synth, scanned
in the background: tests/infra/checkov.py): every finding fixed, or skipped in the template
itself with a reason next to its construct (infra.cdk.nag.skip_checkov). A new finding fails
this test with its check, resource and name."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.infra.checkov import INJECTED, TAMPERED, TEMPLATE, CheckovError, Finding, Scan
from tests.infra.conftest import Synth, record

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")


@pytest.fixture(scope="module")
def scan(synth: Synth) -> Scan:
    try:
        return synth.checkov.result()
    except CheckovError as exc:
        pytest.fail(str(exc))


def test_checkov_finds_nothing_unexplained(scan: Scan) -> None:
    failed = scan.failed[TEMPLATE]
    skipped = Counter(f.check for f in scan.skipped[TEMPLATE])
    summary = (
        f"{scan.version}: {scan.passed[TEMPLATE]} passed, {len(failed)} failed, "
        f"{len(scan.skipped[TEMPLATE])} skipped "
        f"({scan.seconds:.1f} s for both files, in the background)"
    )
    record("checkov", summary)
    record("checkov skips", ", ".join(f"{k} x{v}" for k, v in sorted(skipped.items())))
    assert not failed, (
        f"{len(failed)} new checkov finding(s): fix each, or skip it on its construct with "
        "infra.cdk.nag.skip_checkov and a reason:\n" + "\n".join(map(str, failed))
    )


def test_a_new_finding_fails_the_check(scan: Scan) -> None:
    """The copy with an unencrypted queue: the same check reports exactly what was added."""
    before = set(scan.failed[TEMPLATE])
    new = [f for f in scan.failed[TAMPERED] if f not in before]
    queue = f"AWS::SQS::Queue.{INJECTED}"
    expected = Finding("CKV_AWS_27", queue, "Ensure all data stored in the SQS queue is encrypted")
    assert expected in new, new
    assert all(f.resource == queue for f in new), new


def test_every_skip_says_why_and_is_read(synth: Synth, scan: Scan) -> None:
    skipped = {(f.check, f.resource.split(".", 1)[1]) for f in scan.skipped[TEMPLATE]}
    for logical_id, resource in synth.resources.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert skip["id"].startswith("CKV"), (logical_id, skip)
            assert len(skip.get("comment", "")) >= 40, (logical_id, skip)
            # checkov read it: a skip in a form checkov ignores would hide nothing and mislead.
            assert (skip["id"], logical_id) in skipped, (logical_id, skip)
