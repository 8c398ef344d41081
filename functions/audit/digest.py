"""Scheduled (hourly): write a digest of the audit chain's head to the Object-Locked bucket."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared.observability import logger, metrics
from functions.shared.repositories import audit_chain_for
from functions.shared.repositories.digests import DigestStore
from functions.shared.services.audit_trail import take_digest
from functions.shared.settings import AuditDigestSettings
from functions.shared.wiring import settings_of


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = settings_of(AuditDigestSettings)
    store = DigestStore(settings.audit_digest_bucket, settings.audit_digest_retention_days)
    digest = take_digest(audit_chain_for(settings), store)
    if digest is None:
        return {"seq": 0}
    metrics.add_metric(name="AuditDigestsWritten", unit=MetricUnit.Count, value=1)
    logger.info("audit digest written", extra={"seq": digest.seq, "key": digest.key})
    return {"seq": digest.seq, "hash": digest.hash, "key": digest.key}
