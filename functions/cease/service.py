from functions.shared.domain import RequestType
from functions.shared.services.status_change import ApplyOutcome, apply_status_change
from functions.shared.wiring import Dependencies


def cease_marketing(request_id: str, deps: Dependencies) -> ApplyOutcome:
    return apply_status_change(request_id, RequestType.CEASE_MARKETING, deps)
