"""The CDK app, synthesized once per session (synth takes seconds); every test reads that one
cloud assembly."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# infra.cdk (imported first, as the package of these modules) quiets jsii before it starts.
from infra.cdk.app import build_app
from infra.cdk.stack import PrivacyStack
from tests.infra.checkov import CheckovRun
from tests.summary import SUMMARY, record  # noqa: F401  (record: tests/infra import it from here)

if TYPE_CHECKING:
    from aws_cdk.assertions import Template


@dataclass
class Synth:
    outdir: Path
    stack: PrivacyStack
    template: dict[str, Any]
    validation_error: str | None
    seconds: float
    # checkov on this template, running in the background (tests/infra/test_checkov.py).
    checkov: CheckovRun
    _assertions: Template | None = field(default=None, repr=False)

    @property
    def prefix(self) -> str:
        return self.stack.config.prefix

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{self.stack.stack_name}.template.json"

    @property
    def assertions(self) -> Template:
        from aws_cdk.assertions import Template

        if self._assertions is None:
            self._assertions = Template.from_json(self.template)
        return self._assertions

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.template["Resources"])

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == resource_type}

    def named(self, resource_type: str, name_property: str, name: str) -> tuple[str, dict]:
        found = [
            (k, r)
            for k, r in self.of_type(resource_type).items()
            if r["Properties"].get(name_property) == name
        ]
        assert len(found) == 1, f"{resource_type} {name}: found {len(found)}"
        return found[0]

    def function(self, spec_name: str) -> tuple[str, dict[str, Any]]:
        return self.named("AWS::Lambda::Function", "FunctionName", f"{self.prefix}-{spec_name}")

    def state_machine(self, name: str = "privacy-request") -> tuple[str, dict[str, Any]]:
        """One of the stack's state machines: the privacy request's, "audience-split" or
        "repermission-campaign"."""
        return self.named(
            "AWS::StepFunctions::StateMachine", "StateMachineName", f"{self.prefix}-{name}"
        )

    def table(self, suffix: str) -> tuple[str, dict[str, Any]]:
        return self.named("AWS::DynamoDB::Table", "TableName", f"{self.prefix}-{suffix}")

    def asset_dir(self, s3_key: str) -> Path:
        return self.outdir / f"asset.{s3_key.removesuffix('.zip')}"


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    start = time.monotonic()
    app, stack = build_app(outdir=str(outdir))
    error = None
    try:
        app.synth()
    except RuntimeError as exc:
        # cdk-nag findings fail the synth after the assembly is written: test_nag reports them.
        if "Validation failed" not in str(exc):
            raise
        error = str(exc)
    seconds = time.monotonic() - start
    template = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    SUMMARY["synth (build + synth, one session)"] = f"{seconds:.1f} s"
    SUMMARY["template resources"] = str(len(template["Resources"]))
    checkov = CheckovRun(tmp_path_factory.mktemp("checkov"), template)
    yield Synth(outdir, stack, template, error, seconds, checkov)
    checkov.close()
