"""The API's resolver: powertools' REST resolver, with path parameters decoded as API Gateway
decodes them."""

from __future__ import annotations

from re import Match
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver


class RestResolver(APIGatewayRestResolver):
    """A REST API hands the function the raw path (`/customers/C%2F1/privacy`) and routes on its
    raw segments, but gives `pathParameters` decoded (`C/1`). Powertools routes on the raw path
    too, then passes each segment as matched; decoding here makes a route see what API Gateway's
    own parameters say, so `C%201001` is the customer `C 1001`, as in the deployed API."""

    def _convert_matches_into_route_keys(self, match: Match[str]) -> dict[str, str]:
        keys = super()._convert_matches_into_route_keys(match)
        return {name: unquote(value) for name, value in keys.items()}
