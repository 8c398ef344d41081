"""Running one screening job: snapshot the suppression index, screen the file, write the clean
file, its signed receipt and its report. Nothing is written to the destination unless the whole
file was screened, and nothing over a file another job wrote (files.py: conditional writes).
Files beyond one invocation are handed to the split state machine (functions/audience_filter/
split.py), which finishes the same job record with the same report."""

from __future__ import annotations

import gzip
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.audience_filter.engine import Counts, Screener, Screening
from functions.audience_filter.files import AudienceFiles
from functions.audience_filter.jobs import AudienceJob, Format, JobStatus
from functions.audience_filter.parts import screen_file
from functions.audience_filter.receipt_key import ReceiptKey
from functions.audience_filter.receipts import (
    Digest,
    digest_file,
    receipt_body,
    signed_message,
    signed_receipt,
)
from functions.audience_filter.splits import SplitExecutions
from functions.shared.clock import utc_now
from functions.shared.errors import ConflictError, NotFoundError, ValidationError
from functions.shared.identifiers import IdentifierKind, KeyedHasher
from functions.shared.observability import logger
from functions.shared.suppression import SuppressionRepository
from functions.shared.suppression_reasons import screening_reasons

GZIP_MAGIC = b"\x1f\x8b"
CONTENT_TYPES = {Format.CSV: "text/csv", Format.JSONL: "application/x-ndjson"}

# A gzip source is judged by what it holds: CSV compresses about four to one.
GZIP_EXPANSION = 4
TERMINAL = {JobStatus.SUCCEEDED, JobStatus.FAILED}


@dataclass(frozen=True)
class FilterDependencies:
    hasher: KeyedHasher
    suppression: SuppressionRepository
    files: AudienceFiles
    receipts: ReceiptKey
    splits: SplitExecutions
    # Above the threshold a file goes to the split state machine (settings.py says why).
    split_threshold_bytes: int
    split_max_concurrency: int
    # What a file the bucket hands over (a notification, the schedule) is screened by: the
    # deployment's setting, never the file's own metadata (issue 16).
    identifier_columns: tuple[tuple[IdentifierKind, str], ...]
    scheduled_prefixes: tuple[str, ...]


def screen_audience(job: AudienceJob, deps: FilterDependencies) -> dict[str, Any]:
    """Answers the job record. A job that already ended is answered, not run again; a job handed
    to the split state machine is answered as it stands (its execution finishes it)."""
    earlier = deps.files.job(job.job_id)
    if earlier and earlier["status"] in TERMINAL:
        return earlier
    if earlier and earlier.get("execution"):
        _hand_over(job, deps.splits, deps)
        return earlier
    record = started(job)
    try:
        # A destination another job wrote fails the job before any work (the writes themselves
        # are conditional: one that appears meanwhile fails it at the end).
        deps.files.writable(job.destination, job.job_id)
        if _too_large(job, deps):
            record["execution"] = job.job_id
            deps.files.save_job(record)
            _hand_over(job, deps.splits, deps)
            logger.info("audience job split", extra={"jobId": job.job_id})
            return record
        deps.files.save_job(record)
        result = _run(job, deps)
    except (ValidationError, ConflictError) as exc:
        logger.info("screening job failed", extra={"jobId": job.job_id, "code": exc.code})
        record = failed(record, exc.code, str(exc))
    else:
        record = succeeded(record, result)
    deps.files.save_job(record)
    return record


def started(job: AudienceJob) -> dict[str, Any]:
    """The job record of a job that starts now."""
    return {**job.to_dict(), "status": JobStatus.RUNNING, "startedAt": utc_now()}


def succeeded(record: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    return {**record, **result, "status": JobStatus.SUCCEEDED, "completedAt": utc_now()}


def failed(record: dict[str, Any], code: str, message: str) -> dict[str, Any]:
    error = {"code": code, "message": message}
    return {**record, "status": JobStatus.FAILED, "error": error, "completedAt": utc_now()}


def _too_large(job: AudienceJob, deps: FilterDependencies) -> bool:
    try:
        size = deps.files.describe(job.source).size
    except NotFoundError:
        return False  # screening in place reports the missing file
    if job.source.key.lower().endswith(".gz"):
        size *= GZIP_EXPANSION
    return size > deps.split_threshold_bytes


def _hand_over(job: AudienceJob, splits: SplitExecutions, deps: FilterDependencies) -> None:
    splits.start(job.job_id, {"job": job.to_dict(), "maxConcurrency": deps.split_max_concurrency})


def _run(job: AudienceJob, deps: FilterDependencies) -> dict[str, Any]:
    # The snapshot is taken when the job starts: whoever is in the index by then is dropped.
    snapshot_at = utc_now()
    index = deps.suppression.snapshot(screening_reasons(job.topic))
    screener = Screener(Screening(job.columns, job.format, job.topic), index, deps.hasher)
    with tempfile.TemporaryDirectory(prefix="audience-") as tmp:
        source, clean = Path(tmp) / "source", Path(tmp) / "clean"
        deps.files.download(job.source, source)
        source_digest = digest_file(source)
        source = decompressed(source)
        compress = job.destination.key.endswith(".gz")
        with clean.open("wb") as raw_out:
            out: Any = gzip.GzipFile(fileobj=raw_out, mode="wb", mtime=0) if compress else raw_out
            with out:
                counts = screen_file(screener, source, out)
        clean_digest = digest_file(clean)
        deps.files.write_file(clean, job.destination, CONTENT_TYPES[job.format], job.job_id)
    screened = Screened(snapshot_at, len(index), counts, source_digest, clean_digest)
    return publish_report(job, screened, deps.files, deps.receipts)


@dataclass(frozen=True)
class Screened:
    """What a finished screening is reported and receipted by."""

    snapshot_at: str
    considered: int
    counts: Counts
    source: Digest
    destination: Digest


def publish_report(
    job: AudienceJob, screened: Screened, files: AudienceFiles, receipts: ReceiptKey
) -> dict[str, Any]:
    """Writes the signed receipt and the JSON report beside the clean file (each a conditional
    write, as the file was); answers the report for the job record."""
    snapshot_at, considered, counts = screened.snapshot_at, screened.considered, screened.counts
    body = receipt_body(
        job=job.to_dict(),
        source=screened.source,
        destination=screened.destination,
        snapshot_at=snapshot_at,
        entries=considered,
        counts=counts.as_report(),
        issued_at=utc_now(),
    )
    signature = receipts.sign(signed_message(body))
    files.write_json(job.receipt, signed_receipt(body, receipts.key_id, signature), job.job_id)
    report = {
        "jobId": job.job_id,
        "destination": job.destination.uri,
        "topic": job.topic,
        "indexSnapshotAt": snapshot_at,
        "suppressedHashesConsidered": considered,
        **counts.as_report(),
    }
    files.write_json(job.report, report, job.job_id)
    logger.info(
        "audience screened",
        extra={"jobId": job.job_id, "rowsIn": counts.rows_in, "rowsOut": counts.rows_out},
    )
    return {**report, "report": job.report.uri, "receipt": job.receipt.uri}


def decompressed(path: Path) -> Path:
    with path.open("rb") as f:
        if f.read(2) != GZIP_MAGIC:
            return path
    plain = path.with_suffix(".plain")
    try:
        with gzip.open(path, "rb") as src, plain.open("wb") as dst:
            shutil.copyfileobj(src, dst, 16 * 1024 * 1024)
    except (OSError, EOFError):
        raise ValidationError("the audience file is not a readable gzip file") from None
    path.unlink()
    return plain
