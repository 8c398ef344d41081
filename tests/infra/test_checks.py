"""AWS's own rules on the synthesized template: cdk-nag's AwsSolutions pack (every finding fixed
or acknowledged with a reason next to its construct) and cfn-lint."""

from __future__ import annotations

from collections import Counter

import pytest
from cfnlint.api import ManualArgs, lint_file

from tests.infra.conftest import Synth, record

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")

# CDK writes DependsOn next to the GetAtt that already orders the two resources: harmless, and
# not ours to change.
CFN_LINT_IGNORED = ["W3005"]


def test_cdk_nag_aws_solutions_passes(synth: Synth) -> None:
    assert synth.validation_error is None, synth.validation_error


def test_every_acknowledged_finding_says_why(synth: Synth) -> None:
    findings: Counter[str] = Counter()
    for logical_id, resource in synth.resources.items():
        suppressions = resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        for suppression in suppressions:
            assert len(suppression.get("reason", "")) >= 40, (logical_id, suppression)
            findings[suppression["id"].split("[")[0]] += 1
    record("cdk-nag acknowledgements", ", ".join(f"{k} x{v}" for k, v in sorted(findings.items())))


def test_cfn_lint_passes(synth: Synth) -> None:
    matches = lint_file(synth.template_path, config=ManualArgs(ignore_checks=CFN_LINT_IGNORED))
    assert not matches, "\n".join(str(m) for m in matches)
