"""The in-process Lambda dispatch patches a private moto method. These fail if moto changes it."""

from __future__ import annotations

import inspect
import json

import pytest
from moto.awslambda.models import LambdaFunction

from infra.local import dispatch


def test_moto_still_has_the_patched_method_with_the_expected_shape():
    assert list(inspect.signature(dispatch._original).parameters) == ["self", "event"]
    # moto's own invoke calls it and expects (payload, errored, logs).
    source = inspect.getsource(LambdaFunction.invoke)
    assert "self._invoke_lambda(event=body)" in source
    assert "res, errored, logs" in source


def test_a_changed_signature_is_refused(monkeypatch):
    monkeypatch.setattr(dispatch, "_original", lambda self, event, extra: None)
    with pytest.raises(RuntimeError, match="update this dispatcher"):
        dispatch.check_patch_target()


def test_invoke_through_moto_runs_the_real_handler_in_process(stack):
    lam = stack.client("lambda")
    response = lam.invoke(
        FunctionName=stack.function_arns["Validate"], Payload=json.dumps({"requestId": "bad"})
    )
    payload = json.loads(response["Payload"].read())
    # The real handler's parser rejected the event: proof the product code ran, not a stub.
    assert response["FunctionError"]
    assert payload["errorType"] == "ValidationError"
    assert "requestId" in payload["errorMessage"]


def test_functions_carry_exactly_their_settings_as_environment(stack):
    from infra.functions import FUNCTIONS

    lam = stack.client("lambda")
    for spec in FUNCTIONS:
        variables = lam.get_function_configuration(FunctionName=stack.function_arns[spec.name])[
            "Environment"
        ]["Variables"]
        required = {
            name.upper()
            for name, field in spec.settings.model_fields.items()
            if field.is_required()
        }
        assert required <= variables.keys(), spec.name
