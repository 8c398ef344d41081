"""The reasons a suppression-index entry names, defined once for writers and the audience filter.

Topic opt-outs are stored per topic as `OPTED_OUT:<topic>` (issue 7 writes them); a report counts
them under `OPTED_OUT` so it never names more than the caller asked about."""

from __future__ import annotations

import re

from functions.shared.errors import ValidationError

CEASED = "CEASED"
FORGOTTEN = "FORGOTTEN"
OPTED_OUT = "OPTED_OUT"

_TOPIC = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# When one row matches several entries it is counted once, under the strongest reason.
_PRECEDENCE = (FORGOTTEN, CEASED, OPTED_OUT)


def validate_topic(topic: str) -> str:
    if not _TOPIC.match(topic):
        raise ValidationError("a topic is 1-63 lower-case letters, digits or '-'")
    return topic


def opted_out(topic: str) -> str:
    return f"{OPTED_OUT}:{validate_topic(topic)}"


def screening_reasons(topic: str | None) -> frozenset[str]:
    """What keeps a person out of an audience: always ceased and forgotten; for a topic, also
    that topic's opt-out (never another topic's)."""
    reasons = {CEASED, FORGOTTEN}
    if topic is not None:
        reasons.add(opted_out(topic))
    return frozenset(reasons)


def report_reason(reason: str) -> str:
    return reason.split(":", 1)[0]


def strongest(reasons: set[str]) -> str:
    return min(reasons, key=lambda r: _PRECEDENCE.index(report_reason(r)))
