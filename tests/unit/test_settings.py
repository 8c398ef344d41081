import pytest

from functions.shared.settings import ApiSettings, WorkflowSettings
from infra.functions import FUNCTIONS


def test_missing_settings_fail_the_cold_start_naming_the_variables():
    with pytest.raises(RuntimeError) as error:
        WorkflowSettings.from_env({"CUSTOMERS_TABLE": "c"})
    assert "REQUESTS_TABLE" in str(error.value) and "HMAC_KEY_PARAMETER" in str(error.value)


def test_settings_read_upper_case_names():
    env = {
        "CUSTOMERS_TABLE": "c",
        "REQUESTS_TABLE": "r",
        "AUDIT_TABLE": "a",
        "SUPPRESSION_TABLE": "s",
        "AUDIT_CHAIN_TABLE": "ac",
        "AUDIT_DIGEST_BUCKET": "d",
        "IDEMPOTENCY_TABLE": "i",
        "STATE_MACHINE_ARN": "arn",
        "HMAC_KEY_PARAMETER": "/k",
        "EXPORTS_BUCKET": "e",
        "IDEMPOTENCY_WINDOW_SECONDS": "60",
        "AUDIT_KEY_ID": "arn:aws:kms:eu-west-1:123456789012:key/audit",
        "RECEIPT_KEY_ID": "arn:aws:kms:eu-west-1:123456789012:key/receipts",
        "AUDIT_DIGEST_FUNCTION": "privacy-test-AuditDigest",
    }
    settings = ApiSettings.from_env(env)
    assert settings.idempotency_window_seconds == 60
    assert settings.confirmation_timeout_seconds == 7 * 24 * 3600


def test_each_function_gets_only_its_own_variables():
    values = {"CUSTOMERS_TABLE": "c", "STATE_MACHINE_ARN": "arn", "EVENT_BUS_NAME": "bus"}
    by_name = {spec.name: spec.environment(values) for spec in FUNCTIONS}
    assert "STATE_MACHINE_ARN" in by_name["Api"] and "STATE_MACHINE_ARN" not in by_name["Cease"]
    assert "EVENT_BUS_NAME" in by_name["Finish"] and "EVENT_BUS_NAME" not in by_name["Cease"]
    assert "EVENT_BUS_NAME" in by_name["Api"]  # consent changes are announced
