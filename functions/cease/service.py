"""CEASE_MARKETING: restrict processing for marketing; loyalty keeps working. Every identifier
of the customer goes into the suppression index as CEASED with the status change."""

from functions.requests.apply import (
    ApplyOutcome,
    change_privacy_status,
    request_to_apply,
    status_if_still_allowed,
)
from functions.requests.lifecycle import RequestStores
from functions.shared.domain import PrivacyStatus, RequestType
from functions.shared.suppression import entries_for
from functions.shared.suppression_reasons import CEASED


def cease_marketing(request_id: str, deps: RequestStores) -> ApplyOutcome:
    request = request_to_apply(request_id, RequestType.CEASE_MARKETING, deps)
    if request is None:
        return ApplyOutcome.APPLIED
    current = status_if_still_allowed(request, deps)
    if current is None:
        return ApplyOutcome.REJECTED
    identifiers = deps.customers.get_identifiers(request.customer_id)
    suppress = entries_for(identifiers, CEASED, deps.hasher)
    change_privacy_status(deps, request, current, PrivacyStatus.CEASED, suppress=suppress)
    return ApplyOutcome.APPLIED
