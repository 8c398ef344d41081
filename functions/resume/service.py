"""RESUME_MARKETING: lift the restriction, and exactly the suppression entries this customer's
cease put there (found by subject, so even an e-mail changed since is lifted)."""

from functions.requests.apply import ApplyOutcome, SuppressionChange, apply_status_change
from functions.requests.lifecycle import RequestStores
from functions.shared.domain import PrivacyRequest, RequestType
from functions.shared.suppression_reasons import CEASED


def resume_marketing(request_id: str, deps: RequestStores) -> ApplyOutcome:
    def lift_what_the_cease_added(request: PrivacyRequest) -> SuppressionChange:
        return [], deps.suppression.entries_of(deps.hasher.customer(request.customer_id), CEASED)

    return apply_status_change(
        request_id, RequestType.RESUME_MARKETING, deps, lift_what_the_cease_added
    )
