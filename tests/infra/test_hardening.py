"""What the outside scanner (tests/infra/test_checkov.py) asked for, asserted as the stack's own
rules: logs and dead-letter queues under customer-managed keys that only their services may use,
a dead-letter queue for every function invoked asynchronously, reserved concurrency where outside
callers drive a function."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

import pytest
from aws_cdk import App

from infra.cdk.access import ACCESS
from infra.cdk.config import StackConfig
from infra.cdk.security import log_group_patterns
from infra.functions import API, FUNCTIONS, FunctionSpec
from tests.infra.conftest import Synth

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")

# Invoked asynchronously: by S3 notifications and schedules, by the API (InvocationType=Event,
# the audience filter), by every audit writer (the digest, every N entries: audit_keys.py).
ASYNC = {"AudienceFilter", "AuditDigest", "DeadlineCheck"}


def _key(synth: Synth, prefix: str) -> tuple[str, dict[str, Any]]:
    (found,) = [(k, r) for k, r in synth.of_type("AWS::KMS::Key").items() if k.startswith(prefix)]
    return found


def _service_statements(key: dict[str, Any], service: str) -> list[dict[str, Any]]:
    return [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if service in json.dumps(s.get("Principal", {}).get("Service", ""))
    ]


def test_every_log_group_is_encrypted_with_the_logs_key(synth: Synth) -> None:
    key_id, key = _key(synth, "SecurityLogsKey")
    assert key["Properties"]["EnableKeyRotation"] is True
    (statement,) = _service_statements(key, "logs.")
    # CloudWatch Logs may use the key for this stack's log groups only, each named by the
    # encryption context: every log group's name must fit one of the patterns.
    assert list(statement["Condition"]) == ["ArnLike"]
    assert list(statement["Condition"]["ArnLike"]) == ["kms:EncryptionContext:aws:logs:arn"]
    patterns = log_group_patterns(synth.prefix)
    groups = synth.of_type("AWS::Logs::LogGroup")
    assert len(groups) > len(FUNCTIONS)  # the functions', the state machines', the API's, ...
    for group_id, group in groups.items():
        props = group["Properties"]
        assert props["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}, group_id
        assert any(fnmatchcase(props["LogGroupName"], p) for p in patterns), props
        assert group["DeletionPolicy"] == "Retain"
    assert key["DeletionPolicy"] == "Retain"  # the kept log groups stay readable


def test_every_function_logs_to_its_own_declared_log_group(synth: Synth) -> None:
    """None is left to Lambda's implicit, unencrypted /aws/lambda/<name> group."""
    groups = synth.of_type("AWS::Logs::LogGroup")
    for function_id, function in synth.of_type("AWS::Lambda::Function").items():
        props = function["Properties"]
        (group_id,) = [g for g in groups if props["LoggingConfig"]["LogGroup"] == {"Ref": g}]
        name = groups[group_id]["Properties"]["LogGroupName"]
        if "FunctionName" not in props:
            # CDK's own BucketDeployment handler (infra/cdk/pages.py), named by CDK: its group
            # is declared under the stack's prefix, where the logs key serves it.
            assert function_id.startswith("CustomCDKBucketDeployment"), function_id
            assert name == f"/aws/lambda/{synth.prefix}-pages-deployment", function_id
            continue
        assert name == f"/aws/lambda/{props['FunctionName']}", function_id


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_asynchronous_functions_and_only_they_have_a_dead_letter_queue(
    synth: Synth, spec: FunctionSpec
) -> None:
    _, function = synth.function(spec.name)
    props = function["Properties"]
    skips = {s["id"] for s in function.get("Metadata", {}).get("checkov", {}).get("skip", [])}
    if spec.name not in ASYNC:
        assert "DeadLetterConfig" not in props
        assert "CKV_AWS_116" in skips  # with its reason: invoked only synchronously
        return
    queue_id = props["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
    key_id, _ = _key(synth, "SecurityDeadLettersKey")
    queue = synth.resources[queue_id]["Properties"]
    assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    # Lambda sends with the function's role: it may use the key through SQS alone.
    role_id = props["Role"]["Fn::GetAtt"][0]
    statements = [
        s
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
    ]
    (statement,) = statements
    assert statement["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert "sqs." in json.dumps(statement["Condition"]["StringEquals"]["kms:ViaService"])


def test_the_asynchronous_functions_are_those_the_declarations_name() -> None:
    declared = {name for name, access in ACCESS.items() if access.notified_by}
    declared |= {spec.name for spec in FUNCTIONS if spec.schedule}
    declared |= {target for access in ACCESS.values() for target in access.invokes}
    assert declared | {"AuditDigest"} == ASYNC


def test_every_queue_refuses_plain_http(synth: Synth) -> None:
    policies = [p["Properties"] for p in synth.of_type("AWS::SQS::QueuePolicy").values()]
    for queue_id in synth.of_type("AWS::SQS::Queue"):
        denied = [
            s
            for p in policies
            if {"Ref": queue_id} in p["Queues"]
            for s in p["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert denied, queue_id


def test_eventbridge_may_use_the_dead_letter_key_for_this_accounts_rules_only(
    synth: Synth,
) -> None:
    _, key = _key(synth, "SecurityDeadLettersKey")
    assert key["Properties"]["EnableKeyRotation"] is True
    (statement,) = _service_statements(key, "events.amazonaws.com")
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"}
    }
    assert json.dumps(statement["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(':rule/*"]]}')
    # No other service, and no principal outside the account, is named in the policy.
    others = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s is not statement and "Service" in s.get("Principal", {})
    ]
    assert not others


def test_api_and_audience_filter_have_reserved_concurrency(synth: Synth) -> None:
    reserved = {
        spec.name: synth.function(spec.name)[1]["Properties"].get("ReservedConcurrentExecutions")
        for spec in FUNCTIONS
    }
    config = synth.stack.config
    assert reserved.pop(API.name) == config.api_burst_limit
    assert reserved.pop("AudienceFilter") == 10
    assert set(reserved.values()) == {None}


def test_reserved_concurrency_follows_the_context() -> None:
    def config(**context: Any) -> StackConfig:
        return StackConfig.from_context(App(context=context).node)

    assert config().reserved_concurrency == {"Api": 100, "AudienceFilter": 10}
    assert config(apiBurstLimit=40).reserved_concurrency == {"Api": 40, "AudienceFilter": 10}
    assert config(apiReservedConcurrency=0, audienceFilterReservedConcurrency="0") == config(
        apiReservedConcurrency=0, audienceFilterReservedConcurrency=0
    )
    assert (
        config(apiReservedConcurrency=0, audienceFilterReservedConcurrency=0).reserved_concurrency
        == {}
    )


def test_the_access_log_bucket_keeps_deleted_logs_for_a_while(synth: Synth) -> None:
    (bucket,) = [
        r for k, r in synth.of_type("AWS::S3::Bucket").items() if k.startswith("StorageAccessLogs")
    ]
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}


def test_an_event_that_cannot_be_dead_lettered_raises_an_alarm(synth: Synth) -> None:
    """A dead-letter queue's key that refuses its writer would otherwise lose events quietly."""
    alarms = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()]
    lambda_alarms = {
        json.dumps(a["Dimensions"]) for a in alarms if a["MetricName"] == "DeadLetterErrors"
    }
    for name in ASYNC:
        function_id, _ = synth.function(name)
        dimensions = [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
        assert json.dumps(dimensions) in lambda_alarms, name
    rule_alarms = [
        {d["Name"]: d["Value"] for d in a["Dimensions"]}
        for a in alarms
        if a["MetricName"] == "InvocationsFailedToBeSentToDlq"
    ]
    for rule_id, rule in synth.of_type("AWS::Events::Rule").items():
        props = rule["Properties"]
        if not any("DeadLetterConfig" in t for t in props["Targets"]):
            continue
        if "EventBusName" in props:  # a custom bus's rule: by bus and name
            wanted = {"EventBusName": props["EventBusName"], "RuleName": props["Name"]}
        else:
            wanted = {"RuleName": {"Ref": rule_id}}
        assert wanted in rule_alarms, rule_id
