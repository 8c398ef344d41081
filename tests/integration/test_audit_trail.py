"""The audit trail end to end: one unbroken chain, tampering of every kind found through
GET /audit/verify, digests in the Object-Locked bucket, and concurrent writers that never fork."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from botocore.exceptions import ClientError

from functions.api.dependencies import api_dependencies
from functions.shared.audit_chain import entry_hash
from functions.shared.unit_of_work import CHAIN_ID
from privacyctl.client import ApiError
from tests.integration.conftest import run_request


def _dynamodb(stack):
    return stack.client("dynamodb")


def _entries(stack) -> list[dict]:
    """Every entry, raw, in chain order."""
    pages = _dynamodb(stack).get_paginator("scan").paginate(TableName=stack.env["AUDIT_TABLE"])
    items = [item for page in pages for item in page["Items"]]
    return sorted(items, key=lambda i: int(i["chainSeq"]["N"]))


def _simple(item: dict) -> dict:
    from boto3.dynamodb.types import TypeDeserializer

    return {k: TypeDeserializer().deserialize(v) for k, v in item.items()}


def _rehash(item: dict) -> None:
    item["entryHash"] = {"S": entry_hash(_simple(item))}


@contextmanager
def tampered(stack) -> Iterator[tuple[list[dict], dict]]:
    """Hands out the trail and its head to tamper with; puts both back as they were after."""
    dynamodb = _dynamodb(stack)
    table, chain = stack.env["AUDIT_TABLE"], stack.env["AUDIT_CHAIN_TABLE"]
    before = _entries(stack)
    head = dynamodb.get_item(TableName=chain, Key={"chainId": {"S": CHAIN_ID}})["Item"]
    try:
        yield [dict(i) for i in before], dict(head)
    finally:
        for item in _entries(stack):
            dynamodb.delete_item(TableName=table, Key={"entryId": item["entryId"]})
        for item in before:
            dynamodb.put_item(TableName=table, Item=item)
        dynamodb.put_item(TableName=chain, Item=head)


def _some_trail(stack, agent, new_customer) -> None:
    customer_id, _ = new_customer()
    run_request(agent, customer_id, "CEASE_MARKETING")
    run_request(agent, customer_id, "RESUME_MARKETING")


def test_every_change_joins_one_chain_that_verifies(stack, agent, compliance, new_customer):
    _some_trail(stack, agent, new_customer)
    entries = _entries(stack)
    result = compliance.audit_verify()
    assert result["intact"] is True and result["firstBreak"] is None
    assert result["checked"] == len(entries) == result["head"]["chainSeq"]
    assert [int(e["chainSeq"]["N"]) for e in entries] == list(range(1, len(entries) + 1))
    assert entries[-1]["entryHash"]["S"] == result["head"]["hash"]
    with pytest.raises(ApiError) as forbidden:
        agent.audit_verify()
    assert forbidden.value.status == 403


def _verify_break(compliance) -> dict:
    result = compliance.audit_verify()
    assert result["intact"] is False
    return result["firstBreak"]


def test_a_changed_field_is_found(stack, agent, compliance, new_customer):
    _some_trail(stack, agent, new_customer)
    with tampered(stack) as (entries, _):
        victim = entries[-3]
        _dynamodb(stack).put_item(
            TableName=stack.env["AUDIT_TABLE"], Item={**victim, "actor": {"S": "mallory"}}
        )
        found = _verify_break(compliance)
    assert found["problem"] == "CHANGED"
    assert found["chainSeq"] == int(victim["chainSeq"]["N"])
    assert found["entryId"] == victim["entryId"]["S"]
    assert compliance.audit_verify()["intact"]


def test_a_removed_entry_is_found(stack, agent, compliance, new_customer):
    _some_trail(stack, agent, new_customer)
    with tampered(stack) as (entries, _):
        victim = entries[-4]
        _dynamodb(stack).delete_item(
            TableName=stack.env["AUDIT_TABLE"], Key={"entryId": victim["entryId"]}
        )
        found = _verify_break(compliance)
    assert (found["problem"], found["chainSeq"]) == ("REMOVED", int(victim["chainSeq"]["N"]))


def test_two_swapped_entries_are_found(stack, agent, compliance, new_customer):
    _some_trail(stack, agent, new_customer)
    with tampered(stack) as (entries, _):
        a, b = entries[-5], entries[-2]
        for item, other in ((a, b), (b, a)):
            swapped = {**item, "chainSeq": other["chainSeq"], "prevHash": other["prevHash"]}
            _dynamodb(stack).put_item(TableName=stack.env["AUDIT_TABLE"], Item=swapped)
        found = _verify_break(compliance)
    assert (found["problem"], found["chainSeq"]) == ("REORDERED", int(a["chainSeq"]["N"]))
    assert "swapped" in found["message"]


def test_an_inserted_entry_is_found(stack, agent, compliance, new_customer):
    _some_trail(stack, agent, new_customer)
    with tampered(stack) as (entries, _):
        forged = {**entries[-3], "entryId": {"S": "forged#COMPLETED"}}
        _rehash(forged)  # the forger knows the algorithm: the entry hashes right on its own
        _dynamodb(stack).put_item(TableName=stack.env["AUDIT_TABLE"], Item=forged)
        found = _verify_break(compliance)
    assert (found["problem"], found["chainSeq"]) == ("INSERTED", int(forged["chainSeq"]["N"]))


def test_an_entry_past_the_head_is_found(stack, agent, compliance, new_customer):
    _some_trail(stack, agent, new_customer)
    with tampered(stack) as (entries, _):
        last = entries[-1]
        forged = {
            **last,
            "entryId": {"S": "forged#APPLIED"},
            "chainSeq": {"N": str(int(last["chainSeq"]["N"]) + 1)},
            "prevHash": last["entryHash"],
        }
        _rehash(forged)
        _dynamodb(stack).put_item(TableName=stack.env["AUDIT_TABLE"], Item=forged)
        found = _verify_break(compliance)
    assert (found["problem"], found["entryId"]) == ("INSERTED", "forged#APPLIED")


def test_a_consistent_rewrite_is_caught_by_the_locked_digest(
    stack, agent, compliance, new_customer
):
    _some_trail(stack, agent, new_customer)
    lam, s3 = stack.client("lambda"), stack.client("s3")
    answer = json.loads(
        lam.invoke(FunctionName=stack.function_arns["AuditDigest"], Payload=b"{}")["Payload"].read()
    )
    assert answer["seq"] == len(_entries(stack))
    bucket = stack.env["AUDIT_DIGEST_BUCKET"]
    version = s3.head_object(Bucket=bucket, Key=answer["key"])
    assert version["ObjectLockMode"] == "COMPLIANCE"
    with pytest.raises(ClientError):  # locked: not even a versioned delete succeeds
        s3.delete_object(Bucket=bucket, Key=answer["key"], VersionId=version["VersionId"])

    with tampered(stack) as (entries, head):
        # Rewrite the last entry and the head consistently: the chain alone looks intact.
        last = {**entries[-1], "actor": {"S": "mallory"}}
        _rehash(last)
        _dynamodb(stack).put_item(TableName=stack.env["AUDIT_TABLE"], Item=last)
        _dynamodb(stack).put_item(
            TableName=stack.env["AUDIT_CHAIN_TABLE"], Item={**head, "headHash": last["entryHash"]}
        )
        result = compliance.audit_verify()
    assert result["digestsChecked"] >= 1
    assert [b["problem"] for b in result["breaks"]] == ["DIGEST_MISMATCH"]
    assert compliance.audit_verify()["intact"]


def test_concurrent_writers_never_fork_the_chain(stack, agent, compliance, new_customer):
    customers = [new_customer()[0] for _ in range(8)]
    errors: list[Exception] = []

    def write(customer_id: str) -> None:
        try:
            for _ in range(2):  # submitted and cancelled, twice: four entries each
                submitted = agent.submit(
                    customer_id, {"type": "CEASE_MARKETING", "identityVerified": True}
                )
                agent.cancel(submitted["requestId"])
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    result = compliance.audit_verify()
    assert result["intact"], result["firstBreak"]
    seqs = [int(e["chainSeq"]["N"]) for e in _entries(stack)]
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_writer_that_lost_the_race_links_to_the_winner(
    stack, agent, compliance, new_customer, monkeypatch
):
    """Deterministically: writer A read the head, writer B appended, then A commits."""
    chain = api_dependencies().work.chain
    stale = chain.head()
    winner_id, _ = new_customer()
    agent.submit(winner_id, {"type": "CEASE_MARKETING", "identityVerified": True})
    reads = iter([stale])
    real_head = chain.head
    monkeypatch.setattr(chain, "head", lambda: next(reads, None) or real_head())
    lost_before = chain.lost_races
    loser_id, _ = new_customer()
    agent.submit(loser_id, {"type": "CEASE_MARKETING", "identityVerified": True})

    assert chain.lost_races == lost_before + 1
    assert compliance.audit_verify()["intact"]
