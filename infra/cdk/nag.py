"""cdk-nag (AwsSolutions) in the app, and the one way to acknowledge a finding: with a reason
that says why, next to the construct it concerns. The same for checkov (tests/infra/
test_checkov.py runs it on the template): a skip in the resource's own Metadata, with a reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, CfnResource, Validations
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


def skip_checkov(construct: IConstruct, check: str, reason: str) -> None:
    """Skip checkov's `check` (CKV_AWS_..) on the construct's own CloudFormation resource, in
    the form checkov reads: Metadata {"checkov": {"skip": [{"id": .., "comment": ..}]}}."""
    if len(reason) < 40:
        raise ValueError(f"{check}: say why the finding is acceptable")
    target = construct.node.default_child or construct
    if not isinstance(target, CfnResource):
        raise TypeError(f"{check}: {construct.node.path} has no CloudFormation resource")
    metadata = target.get_metadata("checkov") or {}
    skips = [s for s in metadata.get("skip", []) if s["id"] != check]
    target.add_metadata("checkov", {"skip": [*skips, {"id": check, "comment": reason}]})
