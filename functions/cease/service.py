"""CEASE_MARKETING: restrict processing for marketing; loyalty keeps working. Every identifier
of the customer goes into the suppression index as CEASED with the status change."""

from functions.requests.apply import ApplyOutcome, SuppressionChange, apply_status_change
from functions.requests.lifecycle import RequestStores
from functions.shared.domain import PrivacyRequest, RequestType
from functions.shared.suppression import entries_for
from functions.shared.suppression_reasons import CEASED


def cease_marketing(request_id: str, deps: RequestStores) -> ApplyOutcome:
    def suppress_every_identifier(request: PrivacyRequest) -> SuppressionChange:
        identifiers = deps.customers.get_identifiers(request.customer_id)
        return entries_for(identifiers, CEASED, deps.hasher), []

    return apply_status_change(
        request_id, RequestType.CEASE_MARKETING, deps, suppress_every_identifier
    )
