"""Files above the split threshold (4 MiB on the local stack) go through the audience split state
machine: the real definition on moto's executor, a Distributed Map whose child executions run
the real step handlers. Its result must be the single path's, byte for byte."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import random
import time
import uuid
from typing import Any

import pytest

from functions.audience_filter import handler as audience_filter
from functions.audience_filter.files import AudienceFiles
from functions.audience_filter.jobs import AudienceJob, S3Location
from functions.audience_filter.multipart import MIN_PART_BYTES
from functions.audience_filter.service import screen_audience
from infra.local import dispatch
from tests.integration import audiences
from tests.integration.conftest import run_request, seed_unique_person

HEADER = b"customer_id,email,phone,first_name,city,points\n"
COLUMNS = {"customerId": "customer_id", "email": "email", "phone": "phone"}
ROWS = 90_000  # about 5.7 MiB: over the local 4 MiB threshold, five or more parts
TERMINAL = {"SUCCEEDED", "FAILED"}


def _person(stack) -> dict[str, str]:
    record = seed_unique_person(stack)
    return {"id": record["customerId"], "email": record["profile"]["email"]}


def _audience(
    ceased: dict[str, str], forgotten: dict[str, str], jsonl: bool = False, rows: int = ROWS
) -> tuple[bytes, list[int], dict[str, int]]:
    """An audience whose records often hold quoted commas and newlines (in CSV, wherever the
    parts are cut, a multi-line record is near), the suppressed people spread through it, and
    malformed rows whose true line numbers are answered with it, with the drops expected."""
    rng = random.Random(5)
    lines, bad, line_no = ([] if jsonl else [HEADER]), [], 0 if jsonl else 1
    dropped = {"CEASED": 0, "FORGOTTEN": 0}
    for n in range(rows):
        line_no += 1
        if n % 9973 == 17:
            lines.append(b"X,not,json\n" if jsonl else b"X,too,many,columns,in,this,row\n")
            bad.append(line_no)
            continue
        if n % 4999 == 3:
            email = f"  {ceased['email'].upper()} "
            dropped["CEASED"] += 1
        elif n % 7919 == 5:
            email = forgotten["email"]
            dropped["FORGOTTEN"] += 1
        else:
            email = f"p{n}.{rng.randrange(10**6)}@example.com"
        # Ofcom's drama range: nobody's real number, nobody in the index.
        phone = "" if n % 2 else f"+44 161 496 0{n % 1000:03d}"
        name = f"Smith, J\n{rng.randrange(999)}" if n % 2 else "Ann"
        if jsonl:
            row = {"customer_id": f"C-{n}", "email": email, "phone": phone, "first_name": name}
            lines.append(json.dumps(row).encode() + b"\n")
        elif n % 2:
            # A quoted name with a comma and a line break: one record over two lines.
            lines.append(f'C-{n},{email},,"{name}","Bath, UK",{n}\n'.encode())
            line_no += 1
        else:
            lines.append(f"C-{n},{email},{phone},{name},Leeds,{n}\n".encode())
    return b"".join(lines), bad, dropped


def _drop(stack, key: str, body: bytes) -> None:
    """A file left by an export job; `_deliver` then hands the filter the bucket notification's
    event (kept outside incoming/: moto 5.2.5 notifies a multipart upload there twice, once as
    if it had no metadata). It is screened by the stack's IDENTIFIER_COLUMNS."""
    audiences.s3(stack).put_object(Bucket=audiences.bucket(stack), Key=key, Body=body)


def _deliver(stack, key: str) -> dict[str, Any]:
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "s3": {"bucket": {"name": audiences.bucket(stack)}, "object": {"key": key}},
            }
        ]
    }
    response = stack.client("lambda").invoke(
        FunctionName=stack.env["AUDIENCE_FILTER_FUNCTION"], Payload=json.dumps(event).encode()
    )
    (job,) = json.loads(response["Payload"].read())["jobs"]
    return dict(job)


def _finished(stack, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        record = json.loads(audiences.read(stack, f"jobs/{job_id}.json"))
        if record["status"] in TERMINAL:
            return dict(record)
        assert time.monotonic() < deadline, f"job stuck in {record['status']}"
        time.sleep(0.1)


def _execution(stack, job_id: str) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    arn = stack.env["AUDIENCE_SPLIT_STATE_MACHINE_ARN"]
    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    (execution,) = [e for e in executions if e["name"] == job_id]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=execution["executionArn"]))[
        "status"
    ] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return dict(described)


def _combine_input(stack, job_id: str) -> dict[str, Any]:
    """What the execution handed to its Combine step (the plan's parts among it)."""
    history = stack.client("stepfunctions").get_execution_history(
        executionArn=_execution(stack, job_id)["executionArn"]
    )["events"]
    scheduled = [
        json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]
        for e in history
        if e["type"] == "TaskScheduled"
    ]
    (combine_input,) = [p for p in scheduled if "screened" in p]
    return dict(combine_input)


def _screen_in_place(stack, job: AudienceJob) -> dict[str, Any]:
    """The single-invocation path on the same file: the filter's own service, with a threshold
    the file never reaches."""
    deps = dataclasses.replace(audience_filter.handler.dependencies(), split_threshold_bytes=10**12)
    return screen_audience(job, deps)


def _counts(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report[k] for k in ("rowsIn", "rowsOut", "dropped", "malformed")}


@pytest.fixture(scope="module")
def people(stack, request) -> dict[str, dict[str, str]]:
    from privacyctl.client import ApiClient

    agent = ApiClient(stack.api_url, "dev:alice:agent")
    ceased, forgotten = _person(stack), _person(stack)
    run_request(agent, ceased["id"], "CEASE_MARKETING")
    run_request(agent, forgotten["id"], "FORGET")
    return {"ceased": ceased, "forgotten": forgotten}


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".jsonl"])
def test_a_large_file_is_screened_in_parts_exactly_as_in_one_piece(stack, people, suffix):
    jsonl, compressed = suffix == ".jsonl", suffix.endswith(".gz")
    rows = ROWS // 2 if jsonl else ROWS  # JSON Lines rows are twice as long: 5 MB either way
    body, bad_lines, dropped = _audience(people["ceased"], people["forgotten"], jsonl, rows)
    name = f"exports/large-{uuid.uuid4().hex[:6]}{suffix}"
    _drop(stack, name, gzip.compress(body) if compressed else body)

    job_id = _deliver(stack, name)["jobId"]
    again = _deliver(stack, name)  # re-delivered while the execution runs: the same job
    assert again["jobId"] == job_id and again["status"] in {"RUNNING", "SUCCEEDED"}
    record = _finished(stack, job_id)
    assert record["status"] == "SUCCEEDED", record.get("error")
    assert record["execution"] == job_id
    assert _execution(stack, job_id)["status"] == "SUCCEEDED"
    cuts = [part["start"] for part in _combine_input(stack, job_id)["parts"][1:]]
    assert len(cuts) >= 3
    if not jsonl:
        # Some cut comes right after a record whose quoted field spans two lines.
        last_lines = [body[:cut].rsplit(b"\n", 2)[-2] for cut in cuts]
        assert not all(line.startswith(b"C-") for line in last_lines), last_lines

    single = AudienceJob.from_dict(
        {
            "source": f"s3://{audiences.bucket(stack)}/{name}",
            "destination": f"s3://{audiences.bucket(stack)}/clean/single-{name}",
            "identifierColumns": COLUMNS,
        }
    )
    in_place = _screen_in_place(stack, single)
    assert in_place["status"] == "SUCCEEDED" and "execution" not in in_place

    split_bytes, single_bytes = (
        audiences.read(stack, f"clean/{name}"),
        audiences.read(stack, f"clean/single-{name}"),
    )
    if compressed:
        # One gzip member a part: the same rows once decompressed.
        split_bytes, single_bytes = gzip.decompress(split_bytes), gzip.decompress(single_bytes)
    assert len(split_bytes) > (0 if jsonl else MIN_PART_BYTES)
    assert split_bytes == single_bytes
    report = json.loads(audiences.read(stack, f"clean/{name}.report.json"))
    assert _counts(report) == _counts(in_place) == _counts(record)
    # Both paths receipt their clean file: the split one hashed the parts as it joined them.
    from functions.audience_filter.verify import verify_clean_file

    key = stack.client("kms").get_public_key(KeyId=stack.env["RECEIPT_KEY_ID"])["PublicKey"]
    source_hash = hashlib.sha256(audiences.read(stack, name)).hexdigest()
    for clean in (f"clean/{name}", f"clean/single-{name}"):
        uri = f"s3://{audiences.bucket(stack)}/{clean}"
        receipt = verify_clean_file(uri, key, s3_client=audiences.s3(stack))
        assert receipt["source"]["sha256"] == source_hash
        assert receipt["counts"]["kept"] == record["rowsOut"]
    assert report["dropped"] == dropped
    assert report["malformed"]["lines"] == bad_lines
    assert report["rowsIn"] == rows
    assert people["ceased"]["email"] not in json.dumps(report).lower()


def test_a_failing_part_leaves_nothing_at_the_destination(stack, people):
    body, _, _ = _audience(people["ceased"], people["forgotten"])
    name = f"exports/doomed-{uuid.uuid4().hex[:6]}.csv"

    def fail_part_two(function: str, payload: Any) -> None:
        ours = function.endswith("-AudienceScreenPart") and name in json.dumps(payload)
        if ours and payload["part"]["number"] == 2:
            raise RuntimeError("the part's worker died")

    dispatch.add_fault(fail_part_two)
    try:
        _drop(stack, name, body)
        job_id = _deliver(stack, name)["jobId"]
        record = _finished(stack, job_id)
        execution = _execution(stack, job_id)
    finally:
        dispatch.remove_fault(fail_part_two)
    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "PART_FAILED"
    assert execution["status"] == "FAILED"
    assert not audiences.exists(stack, f"clean/{name}")
    assert not audiences.exists(stack, f"clean/{name}.report.json")
    uploads = audiences.s3(stack).list_multipart_uploads(
        Bucket=audiences.bucket(stack), Prefix=f"clean/{name}"
    )
    assert not uploads.get("Uploads")
    # Failed for good: a re-delivery answers the record, it does not screen again.
    assert _deliver(stack, name)["status"] == "FAILED"
    assert not audiences.exists(stack, f"clean/{name}")


def test_a_file_without_the_named_column_fails_the_split_job(stack):
    name = f"exports/nomail-{uuid.uuid4().hex[:6]}.csv"
    body = b"id,mail\n" + b"".join(f"{n},p{n}@example.com\n".encode() for n in range(250_000))
    _drop(stack, name, body)
    record = _finished(stack, _deliver(stack, name)["jobId"])
    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "VALIDATION_ERROR"
    # The stack's IDENTIFIER_COLUMNS: e-mail and phone.
    assert "email" in record["error"]["message"] and "phone" in record["error"]["message"]
    assert not audiences.exists(stack, f"clean/{name}")


def test_redelivery_and_retried_steps_change_nothing_twice(stack, people):
    body, _, _ = _audience(people["ceased"], people["forgotten"])
    name = f"exports/again-{uuid.uuid4().hex[:6]}.csv"
    _drop(stack, name, body)
    job_id = _deliver(stack, name)["jobId"]
    assert _finished(stack, job_id)["status"] == "SUCCEEDED"
    s3, bucket = audiences.s3(stack), audiences.bucket(stack)

    def etags() -> dict[str, str]:
        keys = [f"clean/{name}", f"clean/{name}.report.json", f"jobs/{job_id}.json"]
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"work/{job_id}/")["Contents"]
        keys += [o["Key"] for o in listed if "/snapshot" not in o["Key"]]
        return {k: s3.head_object(Bucket=bucket, Key=k)["ETag"] for k in keys}

    before = etags()
    assert _deliver(stack, name)["status"] == "SUCCEEDED"
    # The same part screened again, and the combine step run again, by their functions.
    combine_input = _combine_input(stack, job_id)
    plan = combine_input["parts"]
    lam = stack.client("lambda")
    part_input = {
        "job": combine_input["job"],
        "read": {"source": f"s3://{bucket}/{name}", "headerEnd": len(HEADER)},
        "part": plan[1],
    }
    part_input["read"]["etag"] = s3.head_object(Bucket=bucket, Key=name)["ETag"]
    for function, payload in (
        ("privacy-local-AudienceScreenPart", part_input),
        ("privacy-local-AudienceCombine", combine_input),
    ):
        response = lam.invoke(FunctionName=function, Payload=json.dumps(payload).encode())
        assert not response.get("FunctionError"), response["Payload"].read()
    assert etags() == before
    names = [
        e["name"]
        for e in stack.client("stepfunctions").list_executions(
            stateMachineArn=stack.env["AUDIENCE_SPLIT_STATE_MACHINE_ARN"]
        )["executions"]
    ]
    assert names.count(job_id) == 1


def test_objects_of_any_size_are_joined_in_order(stack):
    """The combine step's join: parts below S3's 5 MiB minimum are gathered, larger ones copied
    inside S3 (topped up from their head when small ones precede them)."""
    files = AudienceFiles(audiences.bucket(stack), audiences.s3(stack))
    rng = random.Random(7)
    sizes = [1000, 3 * 2**20, 6 * 2**20, 11 * 2**20, 0, 2**20 + 5]
    blobs = [rng.randbytes(size) for size in sizes]
    prefix = f"work/join-{uuid.uuid4().hex[:6]}"
    stored = []
    for n, blob in enumerate(blobs):
        key = f"{prefix}/{n}"
        audiences.s3(stack).put_object(Bucket=audiences.bucket(stack), Key=key, Body=blob)
        stored.append(files.describe(S3Location(audiences.bucket(stack), key)))
    target = S3Location(audiences.bucket(stack), f"{prefix}/joined")
    files.concatenate(stored, target, "application/octet-stream", "join-test")
    assert audiences.read(stack, target.key) == b"".join(blobs)
