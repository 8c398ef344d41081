"""What operations rely on: the PrivacyRequestCompleted rule, the HMAC key, a dead-letter queue
for every asynchronous delivery and alarms on workflow failures, DLQ depth and API 5xx."""

from __future__ import annotations

import json

import pytest

from functions.requests.steps import COMPLETED_DETAIL_TYPE
from functions.shared.events import EVENT_SOURCE
from tests.infra.conftest import Synth

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")


def test_completion_rule_matches_privacy_request_completed(synth: Synth) -> None:
    (bus_id,) = synth.of_type("AWS::Events::EventBus")
    rules = [
        r["Properties"]
        for r in synth.of_type("AWS::Events::Rule").values()
        if r["Properties"].get("EventBusName") == {"Ref": bus_id}
    ]
    (rule,) = rules
    assert rule["EventPattern"] == {
        "source": [EVENT_SOURCE],
        "detail-type": [COMPLETED_DETAIL_TYPE],
    }
    for target in rule["Targets"]:
        assert "DeadLetterConfig" in target and "RetryPolicy" in target


def test_every_queue_is_a_dead_letter_queue_with_a_depth_alarm(synth: Synth) -> None:
    used_as_dlq = json.dumps(
        [r["Properties"].get("Targets") for r in synth.of_type("AWS::Events::Rule").values()]
        + [
            f["Properties"].get("DeadLetterConfig")
            for f in synth.of_type("AWS::Lambda::Function").values()
        ]
    )
    depth_alarms = {
        json.dumps(a["Properties"]["Dimensions"])
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    queues = synth.of_type("AWS::SQS::Queue")
    assert queues
    (key_id,) = [k for k in synth.of_type("AWS::KMS::Key") if k.startswith("SecurityDeadLetters")]
    for queue_id, queue in queues.items():
        assert queue_id in used_as_dlq, f"{queue_id} is no dead-letter queue"
        # The undelivered events themselves: a customer-managed key, not SQS's own.
        assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
        dimensions = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
        assert json.dumps(dimensions) in depth_alarms, queue_id


def test_workflow_failures_and_api_5xx_raise_alarms(synth: Synth) -> None:
    machine_id, _ = synth.state_machine()
    (topic_id,) = synth.of_type("AWS::SNS::Topic")
    alarms = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()]
    metrics = {(a["Namespace"], a["MetricName"]) for a in alarms}
    assert {("AWS/States", "ExecutionsFailed"), ("AWS/ApiGateway", "5XXError")} <= metrics
    failed = [a for a in alarms if a["MetricName"] == "ExecutionsFailed"]
    assert failed[0]["Dimensions"][0]["Value"] == {"Ref": machine_id}
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_hmac_key_is_generated_encrypted_and_kept(synth: Synth) -> None:
    (secret,) = synth.of_type("AWS::SecretsManager::Secret").values()
    (key_id,) = [k for k in synth.of_type("AWS::KMS::Key") if k.startswith("SecurityDataKey")]
    assert secret["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] == 64
    assert secret["DeletionPolicy"] == "Retain"
