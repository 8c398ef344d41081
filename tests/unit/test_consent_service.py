"""Recording consent choices and confirming double opt-ins, on the fakes."""

import pytest

from functions.consents.messages import CONSENT_CONFIRMATION_REQUESTED
from functions.consents.rules import CUSTOMER_ACTOR, ConsentChoice
from functions.consents.service import CONSENT_DETAIL_TYPE, confirm_consent, record_consent
from functions.shared.customers import tombstone_key
from functions.shared.domain import ConsentStatus
from functions.shared.errors import ConflictError, NotFoundError
from functions.shared.suppression_reasons import opted_out
from tests.fakes import Item


def choose(deps, granted, source="crm", topic="news"):
    return record_consent(ConsentChoice("C1", topic, "email", granted, source), "agent", deps, 600)


def test_an_opt_out_adds_opted_out_entries_for_the_topic(deps):
    outcome = choose(deps, False)
    assert outcome.status is ConsentStatus.REVOKED and outcome.changed
    assert deps.suppression.reasons() == {opted_out("news")}
    assert len(deps.suppression.rows) == 3


def test_an_opt_out_is_audited_and_announced(deps):
    outcome = choose(deps, False)
    (entry,) = deps.trail.of("CONSENT_REVOKED", outcome.change_id)
    assert entry["details"]["suppressionEntriesAdded"] == {"customerId": 1, "email": 1, "phone": 1}
    (detail,) = deps.events.of(CONSENT_DETAIL_TYPE)
    assert detail["changeId"] == outcome.change_id and detail["granted"] is False


def test_an_opt_in_from_the_crm_is_granted_and_lifts_the_opt_out(deps):
    choose(deps, False)
    outcome = choose(deps, True)
    assert outcome.status is ConsentStatus.GRANTED
    assert deps.suppression.rows == {}


def sent_token(deps) -> str:
    """The token of the last confirmation message: the customer's, never the caller's."""
    return str(deps.events.of(CONSENT_CONFIRMATION_REQUESTED)[-1]["token"])


def test_an_opt_in_from_the_preference_centre_is_pending_and_its_token_goes_to_the_customer(deps):
    outcome = choose(deps, True, source="preference-centre")
    assert outcome.status is ConsentStatus.PENDING
    assert outcome.expires_at == "2026-11-23T12:10:00Z"
    (message,) = deps.events.of(CONSENT_CONFIRMATION_REQUESTED)
    assert message == {
        "customerId": "C1",
        "topic": "news",
        "channel": "email",
        "changeId": outcome.change_id,
        "token": message["token"],
        "expiresAt": "2026-11-23T12:10:00Z",
    }
    assert message["token"].startswith("C1.")
    # The caller's answer has no token: nothing of the outcome holds it.
    assert message["token"] not in repr(outcome)
    (entry,) = deps.trail.of("CONSENT_PENDING", outcome.change_id)
    assert message["token"] not in repr(entry)


def test_a_granted_or_revoked_choice_sends_no_confirmation(deps):
    choose(deps, False)
    choose(deps, True)
    assert deps.events.of(CONSENT_CONFIRMATION_REQUESTED) == []


def test_a_pending_opt_in_does_not_lift_an_opt_out(deps):
    choose(deps, False)
    choose(deps, True, source="preference-centre")
    assert deps.suppression.reasons() == {opted_out("news")}


def test_confirming_the_token_grants_the_consent_once(deps):
    choose(deps, False)
    choose(deps, True, source="preference-centre")
    token = sent_token(deps)
    outcome = confirm_consent(token, deps)
    assert outcome.status is ConsentStatus.GRANTED
    assert deps.consents.current("C1", "news#email").status is ConsentStatus.GRANTED
    assert deps.suppression.rows == {}
    entries, published = len(deps.trail.entries), len(deps.events.published)
    with pytest.raises(ConflictError, match="already been used"):
        confirm_consent(token, deps)
    assert len(deps.trail.entries) == entries and len(deps.events.published) == published
    (entry,) = deps.trail.of("CONSENT_CONFIRMED")
    # The customer's act, not the agent's who recorded the opt-in.
    assert entry["actor"] == CUSTOMER_ACTOR


def test_an_expired_token_is_a_conflict(deps, frozen):
    choose(deps, True, source="preference-centre")
    frozen.advance(seconds=600)
    with pytest.raises(ConflictError, match="expired"):
        confirm_consent(sent_token(deps), deps)
    assert deps.consents.current("C1", "news#email").status is ConsentStatus.PENDING


def test_an_unknown_token_is_not_found(deps):
    with pytest.raises(NotFoundError):
        confirm_consent("C1." + "x" * 43, deps)


def test_a_token_overtaken_by_a_later_choice_is_a_conflict(deps):
    choose(deps, True, source="preference-centre")
    choose(deps, False)
    with pytest.raises(ConflictError, match="changed after"):
        confirm_consent(sent_token(deps), deps)


def test_a_repeated_choice_changes_nothing(deps):
    first = choose(deps, False)
    entries, published = len(deps.trail.entries), len(deps.events.published)
    again = choose(deps, False)
    assert not again.changed and again.change_id == first.change_id
    assert len(deps.trail.entries) == entries and len(deps.events.published) == published


def test_an_unconfirmed_opt_in_never_downgrades_a_granted_consent(deps):
    choose(deps, True)
    outcome = choose(deps, True, source="preference-centre")
    assert not outcome.changed and outcome.status is ConsentStatus.GRANTED


def test_a_forgotten_customer_records_no_consent(deps):
    deps.table.put(*tombstone_key(deps.hasher.customer("C1")), Item(privacy_status="FORGOTTEN"))
    with pytest.raises(ConflictError, match="forgotten"):
        choose(deps, False)


def test_an_expected_change_that_moved_on_is_a_conflict(deps):
    choose(deps, True)
    choice = ConsentChoice("C1", "news", "email", False, "crm")
    with pytest.raises(ConflictError, match="changed after it was read"):
        record_consent(choice, "campaign", deps, 0, expected_change="another")
    assert deps.suppression.rows == {}


def test_an_imported_consent_is_recorded_again_to_get_its_history(deps):
    deps.customers.add_customer(
        "C1",
        email="a@example.com",
        consents=[
            {"topic": "news", "channel": "email", "granted": False, "at": "t", "source": "x"}
        ],
    )
    outcome = choose(deps, False)
    assert outcome.changed
    assert deps.suppression.reasons() == {opted_out("news")}
