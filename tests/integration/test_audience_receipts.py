"""Issue 16 on the local stack: a screening job writes only a destination that does not exist yet
(or that an earlier run of the same job wrote), keys mean one thing, and every clean file has a
signed receipt that catches a changed byte, a swapped or forged receipt and a missing one."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid
from typing import Any

import pytest

from functions.audience_filter import files as files_module
from functions.audience_filter.files import AudienceFiles
from functions.audience_filter.jobs import DestinationTakenError, S3Location
from functions.audience_filter.receipts import ReceiptError, signed_message
from functions.audience_filter.verify import verify_clean_file
from privacyctl.client import ApiClient, ApiError
from tests.integration import audiences
from tests.integration.conftest import run_request, seed_unique_person

HEADER = b"name,email,phone,city\n"


@pytest.fixture
def mallory(stack) -> ApiClient:
    return ApiClient(stack.api_url, "dev:mallory:export-job")


@pytest.fixture
def public_key(agent) -> bytes:
    answer = agent.call("GET", "/audiences/receipt-key")
    assert answer["algorithm"] == "ECDSA_SHA_256" and answer["keySpec"] == "ECC_NIST_P256"
    return str(answer["publicKey"]).encode()


def _uri(stack, key: str) -> str:
    return f"s3://{audiences.bucket(stack)}/{key}"


def _put(stack, key: str, body: bytes) -> None:
    audiences.s3(stack).put_object(Bucket=audiences.bucket(stack), Key=key, Body=body)


def _screen(api: ApiClient, stack, source: str, destination: str, columns: dict[str, str]):
    job_id = api.call(
        "POST",
        "/audiences/filter",
        {
            "source": _uri(stack, source),
            "destination": _uri(stack, destination),
            "identifierColumns": columns,
        },
    )["jobId"]
    return api.call("GET", f"/audiences/filter/{job_id}")


def _snapshot(stack, *keys: str) -> dict[str, bytes | None]:
    return {k: audiences.read(stack, k) if audiences.exists(stack, k) else None for k in keys}


def _invoke(stack, payload: dict[str, Any]) -> dict[str, Any]:
    response = stack.client("lambda").invoke(
        FunctionName=stack.env["AUDIENCE_FILTER_FUNCTION"], Payload=json.dumps(payload).encode()
    )
    return dict(json.loads(response["Payload"].read()))


@pytest.fixture
def legit(stack, agent):
    """A clean file an agent screened: a ceased customer dropped from it."""
    ceased, kept = seed_unique_person(stack), seed_unique_person(stack)
    run_request(agent, ceased["customerId"], "CEASE_MARKETING")
    tag = uuid.uuid4().hex[:8]
    rows = [
        f"Ann,{ceased['profile']['email']},,Bath\n",
        f"Bo,{kept['profile']['email']},,Leeds\n",
    ]
    _put(stack, f"exports/probe-{tag}/legit.csv", HEADER + "".join(rows).encode())
    clean = f"clean/probe-{tag}/legit.csv"
    job = _screen(agent, stack, f"exports/probe-{tag}/legit.csv", clean, {"email": "email"})
    assert job["status"] == "SUCCEEDED" and job["dropped"] == {"CEASED": 1}
    assert audiences.read(stack, clean) == HEADER + rows[1].encode()
    return {"tag": tag, "clean": clean, "ceased": ceased, "kept": kept, "job": job}


def _outputs(clean: str) -> tuple[str, str, str]:
    return clean, clean + ".receipt.json", clean + ".report.json"


def test_the_laundering_attempt_is_refused_and_the_clean_file_is_unchanged(stack, mallory, legit):
    """Issue 16 as found: an export-job caller screens a file that holds the ceased customer's
    e-mail into the existing clean file, naming a column that holds no identifier."""
    before = _snapshot(stack, *_outputs(legit["clean"]))
    probe = f"exports/probe-{legit['tag']}/aud.csv"
    _put(stack, probe, HEADER + f"Ann,{legit['ceased']['profile']['email']},,Bath\n".encode())
    with pytest.raises(ApiError) as caught:
        _screen(mallory, stack, probe, legit["clean"], {"customerId": "name"})
    assert (caught.value.status, caught.value.code) == (409, "CONFLICT")
    assert legit["ceased"]["profile"]["email"] not in caught.value.message
    # Nor its receipt or report, taken one by one.
    for taken in _outputs(legit["clean"])[1:]:
        with pytest.raises(ApiError) as caught:
            _screen(mallory, stack, probe, taken, {"email": "email"})
        assert caught.value.status in (400, 409)
    assert _snapshot(stack, *_outputs(legit["clean"])) == before


def test_the_filter_itself_refuses_a_destination_another_job_wrote(stack, legit):
    """Past the API's check (a file that appeared after it, or a job queued some other way):
    the job fails CONFLICT before screening, and the conditional writes would refuse anyway."""
    before = _snapshot(stack, *_outputs(legit["clean"]))
    job_id = str(uuid.uuid4())
    source = f"exports/probe-{legit['tag']}/legit.csv"
    job = {
        "jobId": job_id,
        "source": _uri(stack, source),
        "destination": _uri(stack, legit["clean"]),
        "identifierColumns": {"customerId": "name"},
        "requestedBy": "mallory",
    }
    (answer,) = [_invoke(stack, {"screeningJob": job})]
    assert answer["status"] == "FAILED"
    record = json.loads(audiences.read(stack, f"jobs/{job_id}.json"))
    assert record["error"]["code"] == "CONFLICT"
    assert _snapshot(stack, *_outputs(legit["clean"])) == before


def test_a_retry_of_the_same_job_may_replace_its_own_output_and_no_other_job_may(stack, agent):
    tag = uuid.uuid4().hex[:8]
    source, clean = f"exports/retry-{tag}/a.csv", f"clean/retry-{tag}/a.csv"
    _put(stack, source, HEADER + b"Cy,cy@example.org,,York\n")
    job = {
        "jobId": str(uuid.uuid4()),
        "source": _uri(stack, source),
        "destination": _uri(stack, clean),
        "identifierColumns": {"email": "email"},
        "requestedBy": "alice",
    }
    assert _invoke(stack, {"screeningJob": job})["status"] == "SUCCEEDED"
    first = json.loads(audiences.read(stack, clean + ".receipt.json"))
    # The run died after writing its outputs, before its record said so: Lambda runs it again.
    record = json.loads(audiences.read(stack, f"jobs/{job['jobId']}.json"))
    _put(stack, f"jobs/{job['jobId']}.json", json.dumps({**record, "status": "RUNNING"}).encode())
    assert _invoke(stack, {"screeningJob": job})["status"] == "SUCCEEDED"
    second = json.loads(audiences.read(stack, clean + ".receipt.json"))
    assert second["receipt"]["jobId"] == first["receipt"]["jobId"] == job["jobId"]
    assert second["receipt"]["issuedAt"] >= first["receipt"]["issuedAt"]
    before = _snapshot(stack, *_outputs(clean))
    other = {**job, "jobId": str(uuid.uuid4())}
    assert _invoke(stack, {"screeningJob": other})["status"] == "FAILED"
    assert _snapshot(stack, *_outputs(clean)) == before


def test_a_new_version_of_a_dropped_file_does_not_replace_the_clean_copy(stack):
    """S3-triggered jobs: the job is the object version's; another version is another job."""
    name = f"drop-{uuid.uuid4().hex[:8]}.csv"
    _put(stack, f"incoming/{name}", b"email,phone\nfirst@example.org,\n")
    clean = f"clean/{name}"
    before = _snapshot(stack, *_outputs(clean))
    assert before[clean] == b"email,phone\nfirst@example.org,\n"
    _put(stack, f"incoming/{name}", b"email,phone\nsecond@example.org,\n")
    assert _snapshot(stack, *_outputs(clean)) == before
    # The notification's job for the new version (re-delivered: answered from its record).
    event = {
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
    (job,) = _invoke(stack, event)["jobs"]
    record = json.loads(audiences.read(stack, f"jobs/{job['jobId']}.json"))
    assert (record["status"], record["error"]["code"]) == ("FAILED", "CONFLICT")


def test_a_dropped_file_is_screened_by_the_configured_columns_not_its_metadata(stack, agent):
    ceased = seed_unique_person(stack)
    run_request(agent, ceased["customerId"], "CEASE_MARKETING")
    name = f"meta-{uuid.uuid4().hex[:8]}.csv"
    body = f"email,phone,note\n{ceased['profile']['email']},,x\n".encode()
    # Metadata naming a harmless column: ignored (moto notifies multipart uploads after the
    # metadata is attached, so the filter does see it).
    audiences.s3(stack).upload_fileobj(
        io.BytesIO(body),
        audiences.bucket(stack),
        f"incoming/{name}",
        ExtraArgs={"Metadata": {"identifier-columns": json.dumps({"email": "note"})}},
        Config=__import__("boto3").s3.transfer.TransferConfig(multipart_threshold=1),
    )
    assert audiences.read(stack, f"clean/{name}") == b"email,phone,note\n"
    receipt = json.loads(audiences.read(stack, f"clean/{name}.receipt.json"))["receipt"]
    assert receipt["identifierColumns"] == {"email": "email", "phone": "phone"}
    assert receipt["caller"] == "bucket-drop"


TRAVERSALS = [
    "clean/../incoming/x.csv",
    "clean/./x.csv",
    "clean//x.csv",
    "/clean/x.csv",
    "clean/..",
    "clean\\..\\incoming\\x.csv",
    "clean/%2e%2e/incoming/x.csv",
    "clean/%2E%2E%2Fincoming/x.csv",
    "clean/\uff0e\uff0e/incoming/x.csv",
    "clean/x\x00.csv",
    "clean/x\n.csv",
    "clean/\u202ex.csv",
    "clean/x\u200b.csv",
    "clean/" + "a" * 1020 + ".csv",
]


@pytest.mark.parametrize("key", TRAVERSALS, ids=range(len(TRAVERSALS)))
def test_keys_that_could_mean_another_key_are_refused_and_nothing_is_written(stack, mallory, key):
    tag = uuid.uuid4().hex[:8]
    source = f"exports/keys-{tag}.csv"
    _put(stack, source, HEADER)
    listed = audiences.s3(stack).list_objects_v2(Bucket=audiences.bucket(stack), Prefix="jobs/")
    jobs_before = listed.get("KeyCount", 0)
    for body in (
        {"source": _uri(stack, source), "destination": _uri(stack, key)},
        {
            "source": _uri(stack, key.replace("clean", "exports", 1)),
            "destination": _uri(stack, f"clean/k-{tag}.csv"),
        },
    ):
        with pytest.raises(ApiError) as caught:
            mallory.call(
                "POST", "/audiences/filter", {**body, "identifierColumns": {"email": "email"}}
            )
        assert caught.value.status == 400, caught.value.message
    assert not audiences.exists(stack, "incoming/x.csv")
    assert not audiences.exists(stack, f"clean/k-{tag}.csv")
    listed = audiences.s3(stack).list_objects_v2(Bucket=audiences.bucket(stack), Prefix="jobs/")
    assert listed.get("KeyCount", 0) == jobs_before


def test_api_columns_must_be_in_the_header_and_are_recorded_on_the_job(stack, mallory):
    tag = uuid.uuid4().hex[:8]
    source, clean = f"exports/cols-{tag}.csv", f"clean/cols-{tag}.csv"
    _put(stack, source, HEADER + b"Di,di@example.org,,Hull\n")
    gz = f"exports/cols-{tag}.csv.gz"
    _put(stack, gz, __import__("gzip").compress(HEADER + b"Di,di@example.org,,Hull\n"))
    # The API reads the header (of a gzip file too) and refuses at once, writing nothing.
    for file in (source, gz):
        with pytest.raises(ApiError) as caught:
            _screen(mallory, stack, file, clean, {"customerId": "customer_id"})
        assert caught.value.status == 400 and "customer_id" in caught.value.message
    assert _snapshot(stack, *_outputs(clean)) == dict.fromkeys(_outputs(clean))
    # A job that gets past the API (queued otherwise) fails before writing anything.
    job = {
        "jobId": str(uuid.uuid4()),
        "source": _uri(stack, source),
        "destination": _uri(stack, clean),
        "identifierColumns": {"customerId": "customer_id"},
        "requestedBy": "mallory",
    }
    assert _invoke(stack, {"screeningJob": job})["status"] == "FAILED"
    record = json.loads(audiences.read(stack, f"jobs/{job['jobId']}.json"))
    assert record["error"]["code"] == "VALIDATION_ERROR"
    assert _snapshot(stack, *_outputs(clean)) == dict.fromkeys(_outputs(clean))
    # Columns the header has: the job records them and who asked.
    done = _screen(mallory, stack, source, clean, {"customerId": "name", "email": "email"})
    assert done["status"] == "SUCCEEDED"
    assert done["identifierColumns"] == {"customerId": "name", "email": "email"}
    assert done["requestedBy"] == "mallory"


def test_conditional_writes_hold_for_multipart_uploads_on_moto(stack, tmp_path, monkeypatch):
    """moto 5.2.5 enforces If-None-Match: * on CompleteMultipartUpload (as S3 does): a clean file
    of any size, and the split path's join, cannot land on a key another job wrote."""
    s3, bucket = audiences.s3(stack), audiences.bucket(stack)
    key = f"clean/multipart-{uuid.uuid4().hex[:8]}.csv"
    _put(stack, key, b"someone else's\n")
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"x")["ETag"]
    with pytest.raises(s3.exceptions.ClientError) as caught:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
            IfNoneMatch="*",
        )
    assert caught.value.response["Error"]["Code"] == "PreconditionFailed"
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload)

    files = AudienceFiles(bucket, s3)
    monkeypatch.setattr(files_module, "SINGLE_PUT_BYTES", 5 * 1024 * 1024)
    big = tmp_path / "big.csv"
    big.write_bytes(b"email\n" + b"a@example.org\n" * 800_000)  # ~11 MB: three parts
    target = S3Location(bucket, key)
    with pytest.raises(DestinationTakenError):
        files.write_file(big, target, "text/csv", "job-b")
    stored = [files.describe(S3Location(bucket, key))]
    with pytest.raises(DestinationTakenError):
        files.concatenate(stored, S3Location(bucket, key), "text/csv", "job-b")
    assert audiences.read(stack, key) == b"someone else's\n"
    # A new key: written in parts, and then the same job may replace it, another may not.
    fresh = S3Location(bucket, key + ".new.csv")
    files.write_file(big, fresh, "text/csv", "job-a")
    assert audiences.read(stack, fresh.key) == big.read_bytes()
    files.write_file(big, fresh, "text/csv", "job-a")
    with pytest.raises(DestinationTakenError):
        files.write_file(tmp_path.joinpath("big.csv"), fresh, "text/csv", "job-b")
    left = s3.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])
    assert left == []  # every refused upload was aborted


def _local_copy(stack, tmp_path, clean: str) -> tuple[Any, Any]:
    path = tmp_path / "clean.csv"
    path.write_bytes(audiences.read(stack, clean))
    receipt = tmp_path / "clean.csv.receipt.json"
    receipt.write_bytes(audiences.read(stack, clean + ".receipt.json"))
    return path, receipt


def test_a_receipt_verifies_its_clean_file_and_names_how_it_was_made(stack, legit, public_key):
    body = verify_clean_file(_uri(stack, legit["clean"]), public_key, s3_client=audiences.s3(stack))
    assert body["jobId"] == legit["job"]["jobId"] and body["caller"] == "alice"
    assert body["identifierColumns"] == {"email": "email"} and body["topic"] is None
    assert body["counts"] == {"rowsIn": 2, "kept": 1, "dropped": {"CEASED": 1}, "malformed": 0}
    source = audiences.read(stack, f"exports/probe-{legit['tag']}/legit.csv")
    assert body["source"]["sha256"] == hashlib.sha256(source).hexdigest()
    assert body["source"]["bytes"] == len(source)
    assert body["index"]["entries"] >= 1 and body["index"]["snapshotAt"]
    text = audiences.read(stack, legit["clean"] + ".receipt.json").decode()
    for person in (legit["ceased"], legit["kept"]):
        assert person["profile"]["email"] not in text and person["customerId"] not in text
        assert person["profile"]["firstName"] not in text


def _verify(argv: list[str], capsys) -> tuple[int, str]:
    from privacyctl.cli import main

    code = main(argv)
    out = capsys.readouterr()
    return code, (out.out + out.err).strip()


def test_privacyctl_verify_receipt_catches_every_tampering(
    stack, agent, legit, public_key, tmp_path, capsys
):
    api = ["--api", stack.api_url, "--token", "dev:alice:agent"]
    path, receipt = _local_copy(stack, tmp_path, legit["clean"])
    code, said = _verify([*api, "audience", "verify-receipt", str(path)], capsys)
    assert code == 0 and said.startswith("verified:"), said
    code, said = _verify([*api, "audience", "verify-receipt", _uri(stack, legit["clean"])], capsys)
    assert code == 0, said

    def refused(*argv: str) -> str:
        code, said = _verify([*api, "audience", "verify-receipt", *argv], capsys)
        assert code == 1 and said.startswith("error:") and "\n" not in said, said
        return said

    # A changed byte.
    changed = tmp_path / "changed.csv"
    changed.write_bytes(path.read_bytes().replace(b"Bo,", b"Bp,"))
    assert "does not match" in refused(str(changed), "--receipt", str(receipt))
    # A swapped receipt: the genuine receipt of another clean file.
    other = _screen(
        agent,
        stack,
        f"exports/probe-{legit['tag']}/legit.csv",
        f"{legit['clean']}.2.csv",
        {"email": "email"},
    )
    assert other["status"] == "SUCCEEDED"
    swapped = tmp_path / "swapped.json"
    swapped.write_bytes(audiences.read(stack, f"{legit['clean']}.2.csv.receipt.json"))
    changed.write_bytes(path.read_bytes() + b"Eve,eve@example.org,,Hull\n")
    assert "another file" in refused(str(changed), "--receipt", str(swapped))
    # In S3 too: the receipt names its own file.
    assert "not of" in refused(_uri(stack, legit["clean"]), "--receipt", str(swapped))
    # An unreceipted file.
    lone = tmp_path / "lone.csv"
    lone.write_bytes(path.read_bytes())
    assert "unreceipted" in refused(str(lone))
    # A receipt altered by hand (the counts), its signature kept.
    altered = json.loads(receipt.read_text())
    altered["receipt"]["counts"]["dropped"] = {}
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(altered))
    assert "signature" in refused(str(path), "--receipt", str(forged))
    # Not JSON of a receipt at all.
    forged.write_text("{}")
    assert "not a screening receipt" in refused(str(path), "--receipt", str(forged))


def test_an_insider_who_rewrites_file_and_receipt_without_the_key_is_caught(
    stack, legit, public_key
):
    """Write access to clean/ (PutObject, as a screening role has) but not kms:Sign on the
    receipt key: the ceased customer put back, the receipt recomputed to match, signed with a
    KMS key of the insider's own that the receipt then names."""
    s3, bucket = audiences.s3(stack), audiences.bucket(stack)
    laundered = audiences.read(stack, legit["clean"]) + (
        f"Ann,{legit['ceased']['profile']['email']},,Bath\n".encode()
    )
    genuine = json.loads(audiences.read(stack, legit["clean"] + ".receipt.json"))
    assert genuine["signature"]["keyId"] == stack.env["RECEIPT_KEY_ID"]
    body = json.loads(json.dumps(genuine["receipt"]))
    body["destination"] |= {
        "sha256": hashlib.sha256(laundered).hexdigest(),
        "bytes": len(laundered),
    }
    body["counts"] |= {"kept": 2, "dropped": {}}
    kms = stack.client("kms")
    own = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    signature = kms.sign(
        KeyId=own, Message=signed_message(body), MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"
    )["Signature"]
    own_signature = {
        "algorithm": "ECDSA_SHA_256",
        "keyId": own,
        "value": base64.b64encode(signature).decode(),
    }
    s3.put_object(Bucket=bucket, Key=legit["clean"], Body=laundered)
    # Signed with a key of their own, or with the genuine signature kept: neither verifies.
    for forged in (own_signature, genuine["signature"]):
        receipt = {"receipt": body, "signature": forged}
        s3.put_object(
            Bucket=bucket, Key=legit["clean"] + ".receipt.json", Body=json.dumps(receipt).encode()
        )
        with pytest.raises(ReceiptError, match="signature"):
            verify_clean_file(_uri(stack, legit["clean"]), public_key, s3_client=s3)


@pytest.mark.parametrize("field", ["jobId", "requestedBy"])
def test_a_caller_cannot_claim_a_job_or_a_name(stack, mallory, legit, field):
    """Only a retry of the same job may replace its output: the API names every job itself, so
    no caller can pass as the job (or the user) that wrote a clean file."""
    before = _snapshot(stack, *_outputs(legit["clean"]))
    claim = {"jobId": legit["job"]["jobId"], "requestedBy": "alice"}[field]
    with pytest.raises(ApiError) as caught:
        mallory.call(
            "POST",
            "/audiences/filter",
            {
                "source": _uri(stack, f"exports/probe-{legit['tag']}/legit.csv"),
                "destination": _uri(stack, legit["clean"]),
                "identifierColumns": {"email": "email"},
                field: claim,
            },
        )
    assert caught.value.status == 400 and field in caught.value.message
    assert _snapshot(stack, *_outputs(legit["clean"])) == before


def test_a_receipt_is_checked_offline_with_the_public_key_alone(
    stack, legit, public_key, tmp_path, capsys, monkeypatch
):
    path, _ = _local_copy(stack, tmp_path, legit["clean"])
    pem = tmp_path / "receipts.pem"
    pem.write_bytes(public_key)
    # No API address anywhere: the key is all it needs.
    monkeypatch.delenv("PRIVACYCTL_API", raising=False)
    monkeypatch.chdir(tmp_path)
    code, said = _verify(
        ["audience", "verify-receipt", str(path), "--public-key", str(pem)], capsys
    )
    assert code == 0 and said.startswith("verified:"), said
    code, said = _verify(
        ["--output", "json", "audience", "verify-receipt", str(path), "--public-key", str(pem)],
        capsys,
    )
    assert code == 0 and json.loads(said)["receipt"]["jobId"] == legit["job"]["jobId"]


def test_a_dropped_file_whose_key_is_not_a_plain_name_is_skipped(stack):
    tag = uuid.uuid4().hex[:8]
    for key in (f"incoming/odd-{tag}/%2e%2e/x.csv", f"incoming/odd-{tag}/a\\b.csv"):
        _put(stack, key, b"email,phone\nx@example.org,\n")
    listed = audiences.s3(stack).list_objects_v2(
        Bucket=audiences.bucket(stack), Prefix=f"clean/odd-{tag}"
    )
    assert listed.get("KeyCount", 0) == 0
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "s3": {
                    "bucket": {"name": audiences.bucket(stack)},
                    "object": {"key": f"incoming/odd-{tag}/..%2Fx.csv"},
                },
            }
        ]
    }
    assert [j["status"] for j in _invoke(stack, event)["jobs"]] == ["SKIPPED"]
