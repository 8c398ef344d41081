"""privacyctl audit report's summary: privacy requests are counted as requests; consent changes
and campaigns, which share the trail, in sections of their own."""

from privacyctl.report import summarise


def _entry(seq, record, record_type, event, at="2026-11-02T10:00:00Z", **details):
    return {
        "chainSeq": seq,
        "requestId": record,
        "requestType": record_type,
        "eventType": event,
        "at": at,
        "details": details,
    }


def test_only_privacy_requests_are_requests():
    entries = [
        _entry(1, "r1", "CEASE_MARKETING", "SUBMITTED", dueAt="2026-12-02T10:00:00Z"),
        _entry(2, "r1", "CEASE_MARKETING", "COMPLETED", at="2026-11-02T12:00:00Z"),
        _entry(3, "c1", "CONSENT", "CONSENT_REVOKED"),
        _entry(4, "c2", "CONSENT", "CONSENT_REVOKED"),
        _entry(5, "c3", "CONSENT", "CONSENT_GRANTED"),
        _entry(6, "k1", "REPERMISSION_CAMPAIGN", "CAMPAIGN_STARTED"),
    ]
    summary = summarise(entries, now="2026-11-03T00:00:00Z")
    assert summary.entries == 6 and summary.requests == 1
    assert summary.by_type_and_outcome == {"CEASE_MARKETING": {"COMPLETED": 1}}
    rows = {(section, measure): value for section, measure, value in summary.rows()}
    assert rows[("consent changes", "CONSENT_REVOKED")] == "2"
    assert rows[("consent changes", "CONSENT_GRANTED")] == "1"
    assert rows[("campaigns", "CAMPAIGN_STARTED")] == "1"
    assert not [r for r in rows if r[0] == "requests CONSENT"]
    assert summary.median_hours_to_complete == 2.0


def test_an_extended_deadline_replaces_the_submitted_one_in_whatever_order_entries_come():
    submitted = _entry(1, "r1", "EXPORT", "SUBMITTED", dueAt="2026-12-02T10:00:00Z")
    extended = _entry(2, "r1", "EXPORT", "DEADLINE_EXTENDED", dueAt="2027-02-02T10:00:00Z")
    for entries in ([submitted, extended], [extended, submitted]):
        assert summarise(entries, now="2026-12-10T00:00:00Z").open_past_deadline == []
        assert summarise(entries, now="2027-02-03T00:00:00Z").open_past_deadline == ["r1"]
