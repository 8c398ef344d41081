"""The API's body reader and resolver: limits checked before parsing, segments decoded."""

import base64
import json

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from functions.api.bodies import MAX_DEPTH, json_body, nesting_depth
from functions.api.resolver import RestResolver
from functions.shared.errors import ValidationError


def _event(body, encoded=False):
    return APIGatewayProxyEvent({"body": body, "isBase64Encoded": encoded})


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("{}", 1),
        ('{"a": [1, {"b": 2}]}', 3),
        ('{"a": "[[[[[{{{{"}', 1),  # brackets inside strings do not count
        ('{"a": "\\"[[["}', 1),  # nor after an escaped quote
        ("1", 0),
    ],
)
def test_nesting_depth(text, depth):
    assert nesting_depth(text) == depth


def test_bodies_past_a_limit_are_refused_before_parsing():
    assert json_body(_event(json.dumps([[[1]]]))) == [[[1]]]
    too_deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    for body, fragment in (
        (too_deep, "nests deeper"),
        ("[" * 10_000, "nests deeper"),
        ('"' + "x" * 70_000 + '"', "over 64 KiB"),
        ("{nope", "not valid JSON"),
        (None, "not valid JSON"),
        (base64.b64encode(b"\xff\xfe").decode(), "not UTF-8"),
    ):
        encoded = fragment == "not UTF-8"
        with pytest.raises(ValidationError, match=fragment):
            json_body(_event(body, encoded))


def test_routes_get_path_parameters_decoded():
    app = RestResolver()

    @app.get("/things/<thing_id>")
    def thing(thing_id: str) -> dict:
        return {"id": thing_id}

    event = {"httpMethod": "GET", "path": "/things/a%2Fb%20c", "requestContext": {}}
    assert json.loads(app.resolve(event, {})["body"]) == {"id": "a/b c"}
