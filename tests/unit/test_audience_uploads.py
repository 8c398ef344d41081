"""Audience uploads through the API (functions/audience_filter/uploads.py), on an in-memory
stand-in for the bucket: bad input writes nothing, keys never carry the file's name, only the
uploader fetches or removes, and the links are SigV4 at the bucket's regional endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from functions.audience_filter import uploads
from functions.audience_filter.files import AudienceFiles
from functions.audience_filter.jobs import S3Location
from functions.shared.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError


class Files:
    bucket = "audiences"

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.removed: list[str] = []

    def save_upload(self, record: dict[str, Any]) -> None:
        self.records[record["uploadId"]] = record

    def upload_record(self, upload_id: str) -> dict[str, Any] | None:
        return self.records.get(upload_id)

    def presign_put(self, location: S3Location, seconds: int) -> str:
        return f"https://signed/{location.key}?put"

    def presign_get(self, location: S3Location, seconds: int) -> str:
        return f"https://signed/{location.key}?get"

    def remove_under(self, prefix: str) -> list[str]:
        self.removed.append(prefix)
        return [prefix + "audience.csv"]


@pytest.mark.parametrize(
    "body",
    [None, [], {}, {"fileName": ""}, {"fileName": "list.xlsx"}, {"fileName": "a.csv", "x": 1}],
)
def test_bad_input_is_refused_and_writes_nothing(body):
    files = Files()
    with pytest.raises(ValidationError):
        uploads.issue_upload(body, "alice", files)  # type: ignore[arg-type]
    assert files.records == {}


def test_an_upload_names_keys_by_id_and_suffix_only():
    files = Files()
    issued = uploads.issue_upload({"fileName": "Ava Smith customers.CSV.gz"}, "alice", files)
    upload_id = issued["uploadId"]
    assert issued["source"] == f"s3://audiences/requests/{upload_id}/audience.csv.gz"
    assert issued["destination"] == f"s3://audiences/clean/requests/{upload_id}/audience.csv.gz"
    assert "Ava" not in str(files.records) and issued["method"] == "PUT"
    assert files.records[upload_id]["requestedBy"] == "alice"


def test_only_the_uploader_downloads_and_removes():
    files = Files()
    issued = uploads.issue_upload({"fileName": "a.csv"}, "alice", files)
    job = {"jobId": "j", "status": "SUCCEEDED", "destination": issued["destination"]}
    with pytest.raises(ForbiddenError):
        uploads.download_links(job, "mallory", files)
    with pytest.raises(ForbiddenError):
        uploads.remove_upload(issued["uploadId"], "mallory", files)
    links = uploads.download_links(job, "alice", files)
    assert links["downloadUrl"].endswith("audience.csv?get")
    assert links["reportUrl"].endswith("audience.csv.report.json?get")
    assert links["receiptUrl"].endswith("audience.csv.receipt.json?get")
    with pytest.raises(ConflictError):
        uploads.download_links({**job, "status": "RUNNING"}, "alice", files)
    with pytest.raises(ConflictError):
        uploads.download_links({**job, "destination": "s3://audiences/clean/x.csv"}, "alice", files)
    removed = uploads.remove_upload(issued["uploadId"], "alice", files)
    assert files.removed == [
        f"requests/{issued['uploadId']}/",
        f"clean/requests/{issued['uploadId']}/",
    ]
    assert len(removed["removed"]) == 2
    with pytest.raises(NotFoundError):
        uploads.remove_upload("../../jobs", "alice", files)


def test_links_are_sigv4_at_the_regional_endpoint(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    files = AudienceFiles("privacy-dev-audiences")
    url = files.presign_put(S3Location(files.bucket, "requests/x/audience.csv"), 60)
    assert url.startswith("https://privacy-dev-audiences.s3.eu-west-1.amazonaws.com/requests/x/")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
