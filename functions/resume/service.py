"""RESUME_MARKETING: lift the restriction, and exactly the suppression entries this customer's
cease put there (found by subject, so even an e-mail changed since is lifted)."""

from functions.requests.apply import (
    ApplyOutcome,
    change_privacy_status,
    request_to_apply,
    status_if_still_allowed,
)
from functions.requests.lifecycle import RequestStores
from functions.shared.domain import PrivacyStatus, RequestType
from functions.shared.suppression_reasons import CEASED


def resume_marketing(request_id: str, deps: RequestStores) -> ApplyOutcome:
    request = request_to_apply(request_id, RequestType.RESUME_MARKETING, deps)
    if request is None:
        return ApplyOutcome.APPLIED
    current = status_if_still_allowed(request, deps)
    if current is None:
        return ApplyOutcome.REJECTED
    lift = deps.suppression.entries_of(deps.hasher.customer(request.customer_id), CEASED)
    change_privacy_status(deps, request, current, PrivacyStatus.ACTIVE, lift=lift)
    return ApplyOutcome.APPLIED
