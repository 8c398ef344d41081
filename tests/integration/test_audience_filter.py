"""The audience filter on the local stack: S3 notifications, the schedule, the API, privacyctl."""

from __future__ import annotations

import gzip
import io
import json
import uuid
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig

from privacyctl.client import ApiError
from tests.integration import audiences
from tests.integration.conftest import run_request, seed_unique_person
from tests.integration.test_audience_split import _deliver

HEADER = b"customer_id,email,phone,first_name,city,points\n"
COLUMNS = {"customerId": "customer_id", "email": "email", "phone": "phone"}


@pytest.fixture
def person(stack):
    """A fresh customer with an e-mail and phone nobody else has."""

    def make() -> dict[str, str]:
        record = seed_unique_person(stack)
        profile = record["profile"]
        digits = profile["phone"].replace(" ", "")[-6:]
        return {"id": record["customerId"], "email": profile["email"], "phone": digits}

    return make


def _drop(stack, key: str, body: bytes, topic: str = "", metadata: dict[str, str] | None = None):
    """An export job drops a file under incoming/: moto invokes the filter in-process, inside
    the upload, through the bucket's notification configuration. A multipart upload (as large
    exports are): moto 5.2.5 notifies a single PutObject before it attaches the object's
    metadata, a CompleteMultipartUpload after, as S3 itself does. The file is screened by the
    stack's IDENTIFIER_COLUMNS (e-mail and phone), whatever its metadata says."""
    metadata = dict(metadata or {})
    if topic:
        metadata["topic"] = topic
    audiences.s3(stack).upload_fileobj(
        io.BytesIO(body),
        audiences.bucket(stack),
        key,
        ExtraArgs={"Metadata": metadata},
        Config=TransferConfig(multipart_threshold=1),
    )


def drop_with_topic(stack, name: str, body: bytes, topic: str) -> dict[str, Any]:
    """A file for a topic, as the bucket's notification hands it over; answers its report. Put,
    then the event delivered: moto 5.2.5 notifies a drop under incoming/ before its metadata
    (the topic) is attached, and a multipart one twice, the first time without it (a clean file
    the second job, another job, may then not replace)."""
    key = f"exports/{name}"
    metadata = {"topic": topic} if topic else {}
    audiences.s3(stack).put_object(
        Bucket=audiences.bucket(stack), Key=key, Body=body, Metadata=metadata
    )
    _deliver(stack, key)
    return dict(json.loads(audiences.read(stack, f"clean/{key}.report.json")))


def _no_identifiers_in(text: str, *people: dict[str, str]) -> None:
    for p in people:
        assert p["email"] not in text.lower() and p["id"] not in text and p["phone"] not in text


def test_a_file_dropped_under_incoming_is_screened_into_clean_with_a_report(stack, agent, person):
    ceased, forgotten, kept = person(), person(), person()
    run_request(agent, ceased["id"], "CEASE_MARKETING")
    run_request(agent, forgotten["id"], "FORGET")
    rows = [
        # The ceased customer, matched by a padded, mixed-case e-mail only.
        f'X-1,"  {ceased["email"].upper()} ",,Ann,"Bath, Somerset",10\n',
        # The forgotten customer, by a national-format phone only.
        f"X-2,,020 79{forgotten['phone'][:2]} {forgotten['phone'][2:]},Bo,Leeds,20\n",
        f'{kept["id"]},{kept["email"]},,"Cy ""the"" Kept","multi\nline",30\n',
        "X-4,broken@example.com,,too,many,columns,here\n",
        # The forgotten customer again, by e-mail only (nothing about them is stored but hashes).
        f"X-5,{forgotten['email'].title()},,Bo,Leeds,20\n",
    ]
    name = f"spring-{uuid.uuid4().hex[:6]}.csv"
    _drop(stack, f"incoming/{name}", HEADER + "".join(rows).encode())

    assert audiences.read(stack, f"clean/{name}") == HEADER + rows[2].encode()
    report = json.loads(audiences.read(stack, f"clean/{name}.report.json"))
    assert report["rowsIn"] == 5 and report["rowsOut"] == 1
    assert report["dropped"] == {"CEASED": 1, "FORGOTTEN": 2}
    assert report["malformed"]["lines"] == [6] and report["malformed"]["rows"] == 1
    _no_identifiers_in(json.dumps(report), ceased, forgotten, kept)


def test_gzip_json_lines_with_a_bom_free_utf8_body(stack, agent, person):
    ceased, kept = person(), person()
    run_request(agent, ceased["id"], "CEASE_MARKETING")
    rows = [
        json.dumps({"email": ceased["email"], "phone": "", "name": "Zo\u00eb"}) + "\n",
        json.dumps({"email": kept["email"], "phone": "", "name": "Ren\u00e9e"}) + "\n",
    ]
    name = f"weekly-{uuid.uuid4().hex[:6]}.jsonl.gz"
    body = gzip.compress("".join(rows).encode())
    _drop(stack, f"incoming/{name}", body)
    assert gzip.decompress(audiences.read(stack, f"clean/{name}")) == rows[1].encode()


def test_a_bom_and_crlf_csv_keeps_its_header_bytes(stack, person):
    kept = person()
    body = b"\xef\xbb\xbfemail,phone,n\r\n" + f"{kept['email']},,1\r\n".encode()
    name = f"bom-{uuid.uuid4().hex[:6]}.csv"
    _drop(stack, f"incoming/{name}", body)
    assert audiences.read(stack, f"clean/{name}") == body


def test_a_file_without_the_named_column_fails_and_writes_nothing(stack, agent):
    name = f"nomail-{uuid.uuid4().hex[:6]}.csv"
    # The metadata names the file's own column: the deployment's columns decide (issue 16).
    columns = {"identifier-columns": json.dumps({"email": "mail"})}
    _drop(stack, f"incoming/{name}", b"id,mail\n1,a@example.com\n", metadata=columns)
    assert not audiences.exists(stack, f"clean/{name}")
    assert not audiences.exists(stack, f"clean/{name}.report.json")


@pytest.mark.parametrize("body", [b"", HEADER])
def test_empty_and_header_only_files(stack, body):
    name = f"empty-{uuid.uuid4().hex[:6]}.csv"
    _drop(stack, f"incoming/{name}", body)
    assert audiences.read(stack, f"clean/{name}") == body
    report = json.loads(audiences.read(stack, f"clean/{name}.report.json"))
    assert (report["rowsIn"], report["rowsOut"]) == (0, 0)


def test_api_job_drops_a_customer_ceased_a_moment_before_it_starts(stack, agent, person):
    """The index snapshot is read, strongly consistent, when the job starts."""
    customer = person()
    key = f"exports/{uuid.uuid4().hex[:6]}.csv"
    body = HEADER + f"{customer['id']},x@example.org,,A,B,1\n".encode()
    audiences.s3(stack).put_object(Bucket=audiences.bucket(stack), Key=key, Body=body)
    source, destination = (
        f"s3://{audiences.bucket(stack)}/{key}",
        f"s3://{audiences.bucket(stack)}/clean/{key}",
    )
    request = {"source": source, "destination": destination, "identifierColumns": COLUMNS}

    first = agent.call("POST", "/audiences/filter", request)
    assert agent.call("GET", f"/audiences/filter/{first['jobId']}")["rowsOut"] == 1

    assert run_request(agent, customer["id"], "CEASE_MARKETING")["status"] == "COMPLETED"
    # A clean file is never replaced by another job: the fresh screening goes to a new key.
    again = {**request, "destination": f"{destination}.v2.csv"}
    job_id = agent.call("POST", "/audiences/filter", again)["jobId"]
    job = agent.call("GET", f"/audiences/filter/{job_id}")
    assert job["status"] == "SUCCEEDED"
    assert (job["rowsIn"], job["rowsOut"], job["dropped"]) == (1, 0, {"CEASED": 1})
    assert job["destination"] == again["destination"]
    assert audiences.read(stack, f"clean/{key}.v2.csv") == HEADER


def _expect_400(agent, body: dict[str, Any]) -> str:
    with pytest.raises(ApiError) as caught:
        agent.call("POST", "/audiences/filter", body)
    assert caught.value.status == 400
    return caught.value.message


def test_bad_requests_are_rejected_and_write_nothing(stack, agent):
    bucket = audiences.bucket(stack)
    key = f"exports/{uuid.uuid4().hex[:6]}.csv"
    audiences.s3(stack).put_object(Bucket=bucket, Key=key, Body=HEADER)
    good = {
        "source": f"s3://{bucket}/{key}",
        "destination": f"s3://{bucket}/clean/{key}",
        "identifierColumns": {"email": "email"},
    }
    before = audiences.s3(stack).list_objects_v2(Bucket=bucket, Prefix="jobs/").get("KeyCount", 0)
    assert "incoming/" in _expect_400(
        agent, {**good, "destination": f"s3://{bucket}/incoming/x.csv"}
    )
    assert "identifierColumns" in _expect_400(agent, {**good, "identifierColumns": {"name": "x"}})
    assert "topic" in _expect_400(agent, {**good, "topic": "Not A Topic!"})
    assert bucket in _expect_400(agent, {**good, "source": "s3://elsewhere/requests/a.csv"})
    assert "no audience file" in _expect_400(
        agent, {**good, "source": f"s3://{bucket}/requests/nope.csv"}
    )
    assert "source must be under" in _expect_400(agent, {**good, "source": f"s3://{bucket}/a.csv"})
    assert "destination must be under" in _expect_400(
        agent, {**good, "destination": f"s3://{bucket}/elsewhere/a.csv"}
    )
    after = audiences.s3(stack).list_objects_v2(Bucket=bucket, Prefix="jobs/").get("KeyCount", 0)
    assert after == before
    with pytest.raises(ApiError) as caught:
        agent.call("GET", f"/audiences/filter/{uuid.uuid4()}")
    assert caught.value.status == 404


def test_topic_opt_outs_only_for_that_topic(stack, person):
    """Issue 7 writes OPTED_OUT:<topic> entries; here one is written the way it will be."""
    from functions.shared.domain import Suppression
    from functions.shared.identifiers import IdentifierKind
    from functions.shared.models import SuppressionItem, bind
    from functions.shared.suppression import SuppressionRepository
    from functions.shared.suppression_reasons import opted_out
    from tests.integration.test_cease_resume import _hasher

    customer = person()
    hasher = _hasher()
    entry = Suppression(
        identifier_hash=hasher.hash(IdentifierKind.EMAIL, customer["email"]),
        identifier_kind=IdentifierKind.EMAIL,
        reason=opted_out("newsletter"),
        subject_hash=hasher.customer(customer["id"]),
    )
    SuppressionRepository(bind(SuppressionItem, stack.env["SUPPRESSION_TABLE"])).put_all(
        [entry], "test"
    )
    body = b"email,phone\n" + customer["email"].encode() + b",\n"
    for topic, rows_out in (("newsletter", 0), ("offers", 1), ("", 1)):
        report = drop_with_topic(stack, f"topic-{uuid.uuid4().hex[:6]}.csv", body, topic)
        assert report["rowsOut"] == rows_out, topic


def test_redelivery_and_the_schedule_change_nothing_twice(stack):
    name = f"scheduled/{uuid.uuid4().hex[:6]}.csv"
    _drop(stack, f"incoming/{name}", HEADER)
    first = audiences.s3(stack).list_objects_v2(Bucket=audiences.bucket(stack), Prefix="jobs/")[
        "Contents"
    ]
    lam = stack.client("lambda")
    function = stack.env["AUDIENCE_FILTER_FUNCTION"]
    head = audiences.s3(stack).head_object(Bucket=audiences.bucket(stack), Key=f"incoming/{name}")
    s3_event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "s3": {
                    "bucket": {"name": audiences.bucket(stack)},
                    "object": {"key": f"incoming/{name}"},
                },
            }
        ]
    }
    # The EventBridge rule's event: moto does not fire schedules, so the test sends it.
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    answers = []
    for event in (s3_event, scheduled):
        response = lam.invoke(FunctionName=function, Payload=json.dumps(event).encode())
        answers.append(json.loads(response["Payload"].read()))
    job_ids = {j["jobId"] for answer in answers for j in answer["jobs"]}
    assert len(job_ids) >= 1 and all(j["status"] == "SUCCEEDED" for a in answers for j in a["jobs"])
    again = audiences.s3(stack).list_objects_v2(Bucket=audiences.bucket(stack), Prefix="jobs/")[
        "Contents"
    ]
    records = {o["Key"]: o["ETag"] for o in first}
    assert {o["Key"]: o["ETag"] for o in again if o["Key"] in records} == records
    assert head["ETag"]


def test_privacyctl_filter_screens_a_local_file(
    stack, agent, person, tmp_path, capsys, monkeypatch
):
    from privacyctl import progress
    from privacyctl.cli import main

    monkeypatch.setattr(progress, "LARGE_FILE_BYTES", 1)
    ceased, kept = person(), person()
    run_request(agent, ceased["id"], "CEASE_MARKETING")
    audience = tmp_path / "audience.csv"
    audience.write_bytes(b"email,n\n" + f"{ceased['email']},1\n{kept['email']},2\n".encode())
    clean = tmp_path / "clean.csv"
    argv = ["--api", stack.api_url, "--token", "dev:alice:agent", "filter", str(audience)]
    argv += ["-o", str(clean), "--email-column", "email"]
    assert main(argv) == 0
    out = capsys.readouterr()
    assert clean.read_bytes() == b"email,n\n" + f"{kept['email']},2\n".encode()
    assert "2 rows in, 1 out; dropped: CEASED 1" in out.out
    assert "upload [" in out.err and "100%" in out.err
    _no_identifiers_in(out.out, ceased, kept)
    # The signed receipt came down beside the clean file, and vouches for it.
    assert (tmp_path / "clean.csv.receipt.json").is_file()
    assert main(["--api", stack.api_url, "audience", "verify-receipt", str(clean)]) == 0
    assert capsys.readouterr().out.startswith("verified:")
    for prefix in ("requests/", "clean/requests/"):
        leftovers = audiences.s3(stack).list_objects_v2(
            Bucket=audiences.bucket(stack), Prefix=prefix
        )
        assert leftovers.get("KeyCount", 0) == 0, prefix
