"""The split path for files beyond one invocation, one service per state of
infra/statemachine/audience_split.asl.json: plan the parts, screen one part, combine them (or
record the job's failure). Every step answers the same for the same input: a retried step
rewrites the same objects under work/<jobId>/, and a finished job is answered from its record.

The screening is the single path's (engine.Screener over parts.plan_parts), the job record and
the report are service.py's; only where the bytes come from and go to differs."""

from __future__ import annotations

import gzip
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.audience_filter import snapshot
from functions.audience_filter.engine import Counts, Part, Screener, Screening
from functions.audience_filter.files import AudienceFiles
from functions.audience_filter.jobs import WORK, AudienceJob, S3Location
from functions.audience_filter.parts import plan_parts
from functions.audience_filter.receipt_key import ReceiptKey
from functions.audience_filter.receipts import Digest, digest_chunks, digest_file
from functions.audience_filter.service import (
    CONTENT_TYPES,
    TERMINAL,
    Screened,
    decompressed,
    failed,
    publish_report,
    started,
    succeeded,
)
from functions.shared.clock import utc_now
from functions.shared.errors import ConflictError, NotFoundError
from functions.shared.identifiers import KeyedHasher
from functions.shared.observability import logger
from functions.shared.suppression import SuppressionRepository
from functions.shared.suppression_reasons import screening_reasons

# About 1 GB a part: a few minutes of one worker, well inside an invocation (README).
PART_FAILED = "PART_FAILED"


class PartsMissingError(RuntimeError):
    """A part has no screened output: the Map lost it (moto's Distributed Map reports a failed
    item as null instead of failing), so the job must fail rather than publish a hole."""


@dataclass(frozen=True)
class CombineDependencies:
    """Combine and RecordFailure join files, sign the receipt and write records: no table."""

    files: AudienceFiles
    receipts: ReceiptKey


@dataclass(frozen=True)
class SplitDependencies:
    files: AudienceFiles
    hasher: KeyedHasher
    suppression: SuppressionRepository
    part_bytes: int


def _work(job: AudienceJob, files: AudienceFiles, name: str) -> S3Location:
    return S3Location(files.bucket, f"{WORK}{job.job_id}/{name}")


def _screener(job: AudienceJob, index: dict[bytes, str], deps: SplitDependencies) -> Screener:
    return Screener(Screening(job.columns, job.format, job.topic), index, deps.hasher)


def plan_split(job: AudienceJob, deps: SplitDependencies) -> dict[str, Any]:
    """Snapshots the index once for every part, and cuts the file on record boundaries. A gzip
    source is decompressed to work/ first: a gzip stream cannot be read from the middle."""
    snapshot_at = utc_now()
    index = deps.suppression.snapshot(screening_reasons(job.topic))
    deps.files.put_bytes(_work(job, deps.files, "snapshot"), snapshot.pack(index))
    screener = _screener(job, index, deps)
    stored = deps.files.describe(job.source)
    with tempfile.TemporaryDirectory(prefix="audience-plan-") as tmp:
        source = Path(tmp) / "source"
        deps.files.download_range(job.source, source, 0, None, stored.etag)
        source_digest = digest_file(source)
        plain = decompressed(source)
        read = {"source": job.source.uri, "etag": stored.etag, "headerEnd": 0}
        if plain != source:
            staged = _work(job, deps.files, "source")
            deps.files.upload(plain, staged, CONTENT_TYPES[job.format])
            read = {**read, "source": staged.uri, "etag": deps.files.describe(staged).etag}
        with plain.open("rb") as f:
            header = screener.read_header(f)
            read["headerEnd"] = f.tell()
        parts = []
        if header is not None:
            body = plain.stat().st_size - header.body_start
            count = max(1, body // max(deps.part_bytes, 1))
            parts = plan_parts(plain, header, count, job.format, deps.part_bytes)
    logger.info("audience split planned", extra={"jobId": job.job_id, "parts": len(parts)})
    return {
        "parts": [
            {"number": n, "start": p.start, "end": p.end, "firstLine": p.first_line}
            for n, p in enumerate(parts)
        ],
        "read": read,
        "report": {
            "snapshotAt": snapshot_at,
            "suppressedHashesConsidered": len(index),
            # The receipt's source: the bytes the plan read (If-Match held the version).
            "source": source_digest.as_dict(),
        },
    }


def screen_part(
    job: AudienceJob, read: dict[str, Any], part: dict[str, Any], deps: SplitDependencies
) -> dict[str, Any]:
    """Screens bytes [start, end) against the job's snapshot into work/<jobId>/parts/<n>, with
    the header row first in part 0, each part its own gzip member when the destination is .gz
    (members concatenate into one gzip file)."""
    index = snapshot.unpack(deps.files.get_bytes(_work(job, deps.files, "snapshot")))
    screener = _screener(job, index, deps)
    source, etag, number = S3Location.parse(read["source"]), read["etag"], int(part["number"])
    with tempfile.TemporaryDirectory(prefix="audience-part-") as tmp:
        head, body, clean = Path(tmp) / "head", Path(tmp) / "body", Path(tmp) / "clean"
        deps.files.download_range(source, head, 0, int(read["headerEnd"]), etag)
        with head.open("rb") as f:
            header = screener.read_header(f)
        if header is None:
            raise RuntimeError("the audience file has no header any more")
        deps.files.download_range(source, body, int(part["start"]), part["end"], etag)
        with clean.open("wb") as raw_out:
            compress = job.destination.key.endswith(".gz")
            out: Any = gzip.GzipFile(fileobj=raw_out, mode="wb", mtime=0) if compress else raw_out
            with out, body.open("rb") as rows:
                if number == 0:
                    out.write(header.raw)
                # The part's bytes sit at offset 0 of the local file; their lines keep their
                # numbers in the whole file.
                counts = screener.screen(rows, out, header, Part(0, None, int(part["firstLine"])))
        deps.files.upload(
            clean, _work(job, deps.files, f"parts/{number:06d}"), "application/octet-stream"
        )
    deps.files.put_bytes(_work(job, deps.files, f"counts/{number:06d}.json"), _dump(counts))
    return {"number": number, "rowsIn": counts.rows_in}


def combine_parts(
    job: AudienceJob,
    parts: list[dict[str, Any]],
    report: dict[str, Any],
    screened: list[Any],
    deps: CombineDependencies,
) -> dict[str, Any]:
    """Joins the parts' outputs in order into the destination (all or nothing), merges their
    counts into the single path's report and finishes the job record."""
    record = deps.files.job(job.job_id) or started(job)
    if record["status"] in TERMINAL:
        return record
    if len(screened) != len(parts) or any(s is None for s in screened):
        raise PartsMissingError("a part of the audience file was not screened")
    counts, outputs = Counts(), []
    for number in range(len(parts)):
        try:
            counts.merge(
                _load(deps.files.get_bytes(_work(job, deps.files, f"counts/{number:06d}.json")))
            )
            outputs.append(deps.files.describe(_work(job, deps.files, f"parts/{number:06d}")))
        except NotFoundError:
            raise PartsMissingError(
                f"part {number} of the audience file was not screened"
            ) from None
    # The clean file is the parts' bytes in order: their hash is the destination's, without
    # reading the joined object back (the join copies inside S3).
    clean = digest_chunks(
        chunk for output in outputs for chunk in deps.files.digest_chunks(output.location)
    )
    source = Digest(str(report["source"]["sha256"]), int(report["source"]["bytes"]))
    finished = Screened(
        report["snapshotAt"], int(report["suppressedHashesConsidered"]), counts, source, clean
    )
    try:
        deps.files.concatenate(outputs, job.destination, CONTENT_TYPES[job.format], job.job_id)
        result = publish_report(job, finished, deps.files, deps.receipts)
    except ConflictError as exc:
        logger.info("split screening job failed", extra={"jobId": job.job_id, "code": exc.code})
        record = failed(record, exc.code, str(exc))
        deps.files.save_job(record)
        return record
    record = succeeded(record, result)
    deps.files.save_job(record)
    return record


def record_failure(
    job: AudienceJob, error: dict[str, Any], deps: CombineDependencies
) -> dict[str, Any]:
    """The job ends FAILED with nothing at its destination. `error` is the plan's verdict on the
    file ({code, message}) or what a step raised (Step Functions' {Error, Cause}): only the error's
    name is kept of the latter, its message may quote the data it failed on."""
    record = deps.files.job(job.job_id) or started(job)
    if record["status"] in TERMINAL:
        return record
    if "code" in error:
        code, message = str(error["code"]), str(error["message"])
    else:
        name = str(error.get("Error", "States.TaskFailed"))
        code, message = PART_FAILED, f"the audience file could not be screened in parts ({name})"
    logger.info("split screening job failed", extra={"jobId": job.job_id, "code": code})
    record = failed(record, code, message)
    deps.files.save_job(record)
    return record


def _dump(counts: Counts) -> bytes:
    return json.dumps(
        {
            "rowsIn": counts.rows_in,
            "rowsOut": counts.rows_out,
            "dropped": dict(counts.dropped),
            "malformed": dict(counts.malformed),
            "malformedLines": counts.malformed_lines,
        }
    ).encode()


def _load(raw: bytes) -> Counts:
    data = json.loads(raw)
    counts = Counts(rows_in=data["rowsIn"], rows_out=data["rowsOut"])
    counts.dropped.update(data["dropped"])
    counts.malformed.update(data["malformed"])
    counts.malformed_lines.extend(data["malformedLines"])
    return counts
