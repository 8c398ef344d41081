"""Re-permission campaigns on the fakes: start, resume, fail; enrol and outcome rules."""

import pytest

from functions.campaigns.rules import (
    Campaign,
    CampaignOutcome,
    CampaignRequest,
    CampaignStatus,
    CustomerResult,
    Enrolment,
)
from functions.campaigns.service import fail_campaign, resume_campaign, start_campaign
from functions.campaigns.steps import apply_outcome, enrol_page, forget_request_id
from functions.consents.rules import ConsentChoice
from functions.consents.service import record_consent
from functions.shared.domain import PrivacyStatus, RequestStatus, RequestType
from functions.shared.errors import ConflictError, TransientError
from functions.shared.suppression_reasons import opted_out

GRANTED = {"topic": "news", "channel": "email", "granted": True, "at": "t", "source": "crm"}


def request(outcome=CampaignOutcome.REVOKE):
    return CampaignRequest("news", "email", "2026-12-01T00:00:00Z", outcome, 10)


def started(deps, outcome=CampaignOutcome.REVOKE) -> Campaign:
    campaign, _ = start_campaign(request(outcome), None, "ops", deps, deps.campaign_workflow)
    return campaign


def test_start_records_the_campaign_and_starts_its_workflow(deps):
    campaign, created = start_campaign(request(), "k", "ops", deps, deps.campaign_workflow)
    assert created and campaign.status is CampaignStatus.RUNNING
    assert deps.campaign_workflow.starts == [(campaign.campaign_id, 1)]
    assert deps.trail.of("CAMPAIGN_STARTED", campaign.campaign_id)


def test_starting_the_same_campaign_again_answers_the_one_recorded(deps):
    first = started(deps)
    again, created = start_campaign(request(), None, "ops", deps, deps.campaign_workflow)
    assert not created and again.campaign_id == first.campaign_id
    assert len(deps.trail.of("CAMPAIGN_STARTED")) == 1


def test_a_workflow_that_does_not_start_fails_the_campaign(deps):
    deps.campaign_workflow.fail_start = TransientError("down")
    with pytest.raises(TransientError):
        started(deps)
    (campaign_id,) = {e["requestId"] for e in deps.trail.entries}
    assert deps.campaigns.get(campaign_id).status is CampaignStatus.FAILED
    (entry,) = deps.trail.of("CAMPAIGN_FAILED")
    assert entry["outcome"] == "FAILED" and entry["details"]["error"] == "WorkflowNotStarted"


def test_only_a_failed_campaign_can_be_resumed(deps):
    campaign = started(deps)
    with pytest.raises(ConflictError, match="only a FAILED"):
        resume_campaign(campaign.campaign_id, "ops", deps, deps.campaign_workflow)


def test_a_failed_campaign_resumes_in_a_new_execution(deps):
    campaign = started(deps)
    fail_campaign(campaign.campaign_id, "States.Timeout", deps)
    resumed = resume_campaign(campaign.campaign_id, "ops", deps, deps.campaign_workflow)
    assert resumed.status is CampaignStatus.RUNNING and resumed.executions == 2
    assert deps.campaign_workflow.starts[-1] == (campaign.campaign_id, 2)
    assert deps.trail.of("CAMPAIGN_RESUMED", campaign.campaign_id)


def test_failing_twice_is_audited_once(deps):
    campaign = started(deps)
    fail_campaign(campaign.campaign_id, "X", deps)
    fail_campaign(campaign.campaign_id, "X", deps)
    assert len(deps.trail.of("CAMPAIGN_FAILED")) == 1


def test_enrolment_skips_ceased_holders(deps):
    deps.customers.add_customer("C1", email="a@example.com", consents=[GRANTED])
    deps.customers.add_customer("C2", consents=[GRANTED], status=PrivacyStatus.CEASED)
    campaign = started(deps)
    assert enrol_page(campaign.campaign_id, deps) == {"done": True}
    stored = deps.campaigns.get(campaign.campaign_id)
    assert stored.counters["enrolled"] == 1 and stored.counters["skippedCeased"] == 1
    asked = deps.events.of("ConsentConfirmationRequested")
    assert [d["customerId"] for d in asked] == ["C1"]


def enrolled(deps, customer_id="C1"):
    current = deps.consents.current(customer_id, "news#email")
    return Enrolment(customer_id, current.change_id or "")


def test_an_unconfirmed_consent_is_revoked_at_the_deadline(deps):
    deps.customers.add_customer("C1", email="a@example.com", consents=[GRANTED])
    campaign = started(deps)
    assert apply_outcome(campaign, enrolled(deps), deps) is CustomerResult.REVOKED
    assert deps.suppression.reasons() == {opted_out("news")}


def test_a_consent_chosen_again_since_enrolment_is_kept(deps):
    deps.customers.add_customer("C1", email="a@example.com", consents=[GRANTED])
    campaign = started(deps)
    enrolment = enrolled(deps)
    record_consent(ConsentChoice("C1", "news", "email", False, "crm"), "a", deps, 0)
    record_consent(ConsentChoice("C1", "news", "email", True, "crm"), "a", deps, 0)
    assert apply_outcome(campaign, enrolment, deps) is CustomerResult.KEPT


def test_an_opt_out_since_enrolment_is_not_ours_to_touch(deps):
    deps.customers.add_customer("C1", email="a@example.com", consents=[GRANTED])
    campaign = started(deps)
    enrolment = enrolled(deps)
    record_consent(ConsentChoice("C1", "news", "email", False, "crm"), "a", deps, 0)
    assert apply_outcome(campaign, enrolment, deps) is CustomerResult.SKIPPED_CHANGED


def test_a_ceased_customer_is_skipped(deps):
    deps.customers.add_customer("C1", consents=[GRANTED], status=PrivacyStatus.CEASED)
    campaign = started(deps)
    assert apply_outcome(campaign, Enrolment("C1", ""), deps) is CustomerResult.SKIPPED_CEASED


def test_an_unknown_customer_is_skipped_as_forgotten(deps):
    campaign = started(deps)
    assert apply_outcome(campaign, Enrolment("GONE", ""), deps) is CustomerResult.SKIPPED_FORGOTTEN


def test_a_forget_outcome_submits_a_confirmed_forget_once(deps):
    deps.customers.add_customer("C1", email="a@example.com", consents=[GRANTED])
    campaign = started(deps, CampaignOutcome.FORGET)
    enrolment = enrolled(deps)
    assert apply_outcome(campaign, enrolment, deps) is CustomerResult.FORGET_REQUESTED
    assert apply_outcome(campaign, enrolment, deps) is CustomerResult.FORGET_REQUESTED
    request_id = forget_request_id(campaign.campaign_id, "C1")
    assert deps.requests.get(request_id).status is RequestStatus.CONFIRMED
    assert len(deps.trail.of("SUBMITTED", request_id)) == 1
    assert len(deps.trail.of("CONFIRMED", request_id)) == 1
    assert deps.workflow.starts == [request_id, request_id]


def test_a_forget_of_someone_elses_making_is_left_open(deps):
    from tests.unit.conftest import submit

    deps.customers.add_customer("C1", email="a@example.com", consents=[GRANTED])
    submit(deps, kind=RequestType.FORGET)
    campaign = started(deps, CampaignOutcome.FORGET)
    assert apply_outcome(campaign, enrolled(deps), deps) is CustomerResult.SKIPPED_FORGET_OPEN
