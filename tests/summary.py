"""Figures tests report for the end of the run (tests/infra: the synth, the asset sizes, cdk-nag's
and checkov's counts), printed as the "infra" section by tests/conftest.py."""

from __future__ import annotations

SUMMARY: dict[str, str] = {}


def record(name: str, value: str) -> None:
    SUMMARY[name] = value
