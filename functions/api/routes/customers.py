"""A customer's privacy status and what may be processed for them now."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.dependencies import api_dependencies
from functions.api.operations import operation
from functions.api.routes.requests import CustomerId
from functions.api.schemas import CustomerPrivacyAnswer, PermissionsAnswer, answer
from functions.requests import service as requests
from functions.shared.caller import Group

router = APIGatewayRouter()


@router.get(
    "/customers/<customerId>/privacy",
    **operation(
        Group.AGENT,
        Group.COMPLIANCE,
        summary="The customer's privacy status, consents and open requests",
        answer=CustomerPrivacyAnswer,
        errors=(404,),
    ),
)
def customer_privacy(customer_id: CustomerId) -> Response[Any]:
    view = requests.describe_customer_privacy(customer_id, api_dependencies())
    return answer(CustomerPrivacyAnswer.of(view))


@router.get(
    "/customers/<customerId>/processing-permissions",
    **operation(
        Group.AGENT,
        Group.COMPLIANCE,
        Group.EXPORT_JOB,
        summary="Which purposes may be processed for the customer now",
        answer=PermissionsAnswer,
        errors=(404,),
    ),
)
def processing_permissions(
    customer_id: CustomerId,
    topic: Annotated[str | None, Query(min_length=1, max_length=63)] = None,
) -> Response[Any]:
    permissions = requests.describe_permissions(customer_id, topic, api_dependencies())
    return answer(PermissionsAnswer.model_validate(permissions))
