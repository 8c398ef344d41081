"""Who is asking: a signed-in user and their groups (Cognito's, or the local dev token's)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from functions.shared.errors import ForbiddenError


class Group(StrEnum):
    AGENT = "agent"
    COMPLIANCE = "compliance"
    EXPORT_JOB = "export-job"


@dataclass(frozen=True)
class Caller:
    username: str
    groups: frozenset[str]

    def require(self, *allowed: Group) -> None:
        if not self.groups & {g.value for g in allowed}:
            names = ", ".join(g.value for g in allowed)
            raise ForbiddenError(f"this action needs one of the groups: {names}")
