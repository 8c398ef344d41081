"""Running one screening job: snapshot the suppression index, screen the file, write the clean
file and its report. Nothing is written to the destination unless the whole file was screened."""

from __future__ import annotations

import gzip
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.audience_filter.engine import Screener, Screening
from functions.audience_filter.parts import screen_file
from functions.shared.audience_jobs import AudienceJob, Format, JobStatus
from functions.shared.domain import utc_now
from functions.shared.errors import ValidationError
from functions.shared.identifiers import KeyedHasher
from functions.shared.observability import logger
from functions.shared.repositories.audiences import AudienceFiles
from functions.shared.repositories.suppression import SuppressionRepository
from functions.shared.suppression_reasons import screening_reasons

GZIP_MAGIC = b"\x1f\x8b"
CONTENT_TYPES = {Format.CSV: "text/csv", Format.JSONL: "application/x-ndjson"}


@dataclass(frozen=True)
class FilterDependencies:
    hasher: KeyedHasher
    suppression: SuppressionRepository
    files: AudienceFiles


def screen_audience(job: AudienceJob, deps: FilterDependencies) -> dict[str, Any]:
    """Answers the job record. A job that already ended is answered, not run again."""
    earlier = deps.files.job(job.job_id)
    if earlier and earlier["status"] in {JobStatus.SUCCEEDED, JobStatus.FAILED}:
        return earlier
    record: dict[str, Any] = {**job.to_dict(), "status": JobStatus.RUNNING, "startedAt": utc_now()}
    deps.files.save_job(record)
    try:
        result = _run(job, deps)
    except ValidationError as exc:
        logger.info("screening job failed", extra={"jobId": job.job_id, "code": exc.code})
        failed = {"status": JobStatus.FAILED, "error": {"code": exc.code, "message": str(exc)}}
        record.update(failed, completedAt=utc_now())
    else:
        record.update(result, status=JobStatus.SUCCEEDED, completedAt=utc_now())
    deps.files.save_job(record)
    return record


def _run(job: AudienceJob, deps: FilterDependencies) -> dict[str, Any]:
    # The snapshot is taken when the job starts: whoever is in the index by then is dropped.
    snapshot_at = utc_now()
    index = deps.suppression.snapshot(screening_reasons(job.topic))
    screener = Screener(Screening(job.columns, job.format, job.topic), index, deps.hasher)
    with tempfile.TemporaryDirectory(prefix="audience-") as tmp:
        source, clean = Path(tmp) / "source", Path(tmp) / "clean"
        deps.files.download(job.source, source)
        source = _decompressed(source)
        compress = job.destination.key.endswith(".gz")
        with clean.open("wb") as raw_out:
            out: Any = gzip.GzipFile(fileobj=raw_out, mode="wb", mtime=0) if compress else raw_out
            with out:
                counts = screen_file(screener, source, out)
        deps.files.upload(clean, job.destination, CONTENT_TYPES[job.format])
    report = {
        "jobId": job.job_id,
        "destination": job.destination.uri,
        "topic": job.topic,
        "indexSnapshotAt": snapshot_at,
        "suppressedHashesConsidered": len(index),
        **counts.as_report(),
    }
    deps.files.put_json(job.report, report)
    logger.info(
        "audience screened",
        extra={"jobId": job.job_id, "rowsIn": counts.rows_in, "rowsOut": counts.rows_out},
    )
    return {**report, "report": job.report.uri}


def _decompressed(path: Path) -> Path:
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
