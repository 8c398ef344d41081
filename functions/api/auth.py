"""Who is calling: the authorizer's claims (Cognito in the cloud, the dev token locally)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from functions.shared.caller import Caller, Group
from functions.shared.errors import UnauthorizedError

__all__ = ["Caller", "Group", "caller_from_claims"]


def _groups(raw: Any) -> frozenset[str]:
    """Cognito hands groups to REST authorizers as a list, a comma-separated string, or the
    bracketed form '[a b]', depending on the path the claims took."""
    if raw is None:
        return frozenset()
    items: Iterable[str] = (
        raw if isinstance(raw, list) else str(raw).strip("[]").replace(",", " ").split()
    )
    return frozenset(i.strip() for i in items if i.strip())


def caller_from_claims(claims: dict[str, Any] | None) -> Caller:
    if not claims:
        raise UnauthorizedError("no caller identity: sign in and send a bearer token")
    username = claims.get("cognito:username") or claims.get("username") or claims.get("sub")
    if not username:
        raise UnauthorizedError("the token names no user")
    return Caller(username=str(username), groups=_groups(claims.get("cognito:groups")))
