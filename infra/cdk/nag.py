"""cdk-nag (AwsSolutions) in the app, and the one way to acknowledge a finding: with a reason
that says why, next to the construct it concerns."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def apply_checks(app: App) -> None:
    # The acknowledgements and their reasons also go into the template's Metadata (cdk_nag).
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    )


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge `finding` on the construct's own CloudFormation resource (an acknowledgement
    on an L2 construct would reach everything below it)."""
    if len(reason) < 40:
        raise ValueError(f"{finding}: say why the finding is acceptable")
    target = construct.node.default_child or construct
    Validations.of(target).acknowledge(Acknowledgment(id=finding, reason=reason))
