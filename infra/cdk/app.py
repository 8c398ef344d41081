"""The CDK app: `make synth` (offline) and `make deploy` run it through the pinned CDK CLI;
tests/infra builds it in-process with build_app()."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from aws_cdk import App

from infra.cdk.config import StackConfig
from infra.cdk.nag import apply_checks
from infra.cdk.stack import PrivacyStack

ROOT = Path(__file__).resolve().parents[2]


def stack_name(stage: str) -> str:
    return f"PrivacyFunctions-{stage}"


def build_app(
    context: dict[str, Any] | None = None, outdir: str | None = None
) -> tuple[App, PrivacyStack]:
    """The app with cdk.json's context under `context`, as the CLI would build it."""
    cdk_json = json.loads((ROOT / "cdk.json").read_text())
    app = App(context={**cdk_json.get("context", {}), **(context or {})}, outdir=outdir)
    config = StackConfig.from_context(app.node)
    stack = PrivacyStack(app, stack_name(config.stage), config=config)
    apply_checks(app)
    return app, stack


def main() -> None:
    # The CDK CLI names the output directory; `make synth` runs this module alone.
    outdir = None if os.environ.get("CDK_OUTDIR") else str(ROOT / "cdk.out")
    app, _ = build_app(outdir=outdir)
    app.synth()


if __name__ == "__main__":
    main()
