import pytest

from functions.shared.domain import (
    PrivacyStatus,
    RequestStatus,
    RequestType,
    category_of,
    ensure_request_allowed,
    processing_permissions,
    status_text,
)
from functions.shared.errors import ConflictError

CEASE, RESUME = RequestType.CEASE_MARKETING, RequestType.RESUME_MARKETING


@pytest.mark.parametrize(
    ("request_type", "status", "text"),
    [
        (CEASE, RequestStatus.COMPLETED, "Cease Marketing Processing - Completed"),
        (RESUME, RequestStatus.COMPLETED, "Resume Marketing Processing - Completed"),
        (
            CEASE,
            RequestStatus.AWAITING_CONFIRMATION,
            "Cease Marketing Processing - Awaiting Confirmation",
        ),
        (CEASE, RequestStatus.APPLIED, "Cease Marketing Processing - In Progress"),
        (RESUME, RequestStatus.REJECTED, "Resume Marketing Processing - Rejected"),
    ],
)
def test_status_text_uses_the_crm_wording(request_type, status, text):
    assert status_text(request_type, status) == text


def test_every_status_has_a_text():
    for request_type in RequestType:
        for status in RequestStatus:
            assert status_text(request_type, status).startswith(request_type.label)


@pytest.mark.parametrize(
    ("request_type", "status", "allowed"),
    [
        (RequestType.CEASE_MARKETING, PrivacyStatus.ACTIVE, True),
        (RequestType.CEASE_MARKETING, PrivacyStatus.CEASED, False),
        (RequestType.CEASE_MARKETING, PrivacyStatus.FORGOTTEN, False),
        (RequestType.RESUME_MARKETING, PrivacyStatus.CEASED, True),
        (RequestType.RESUME_MARKETING, PrivacyStatus.ACTIVE, False),
        (RequestType.RESUME_MARKETING, PrivacyStatus.FORGOTTEN, False),
        (RequestType.FORGET, PrivacyStatus.ACTIVE, True),
        (RequestType.FORGET, PrivacyStatus.CEASED, True),
        (RequestType.FORGET, PrivacyStatus.FORGOTTEN, False),
        # Restriction never blocks access.
        (RequestType.EXPORT, PrivacyStatus.ACTIVE, True),
        (RequestType.EXPORT, PrivacyStatus.CEASED, True),
        (RequestType.EXPORT, PrivacyStatus.FORGOTTEN, False),
    ],
)
def test_which_requests_make_sense_for_which_status(request_type, status, allowed):
    if allowed:
        ensure_request_allowed(request_type, status)
    else:
        with pytest.raises(ConflictError):
            ensure_request_allowed(request_type, status)


def test_cease_blocks_marketing_and_application_access_never_loyalty_and_forget_everything():
    assert processing_permissions(PrivacyStatus.ACTIVE) == dict.fromkeys(
        ("marketing", "audiences", "campaigns", "loyalty", "applicationAccess"), True
    )
    assert processing_permissions(PrivacyStatus.CEASED) == {
        "marketing": False,
        "audiences": False,
        "campaigns": False,
        "loyalty": True,
        "applicationAccess": False,
    }
    assert not any(processing_permissions(PrivacyStatus.FORGOTTEN).values())


def test_terminal_statuses():
    assert {s for s in RequestStatus if s.is_terminal} == {
        RequestStatus.COMPLETED,
        RequestStatus.REJECTED,
        RequestStatus.CANCELLED,
        RequestStatus.EXPIRED,
        RequestStatus.FAILED,
    }


@pytest.mark.parametrize(
    ("sort_key", "category"),
    [
        ("PROFILE", "profile"),
        ("ACTIVITY#2026-01-01T00:00:00Z#A1", "activity"),
        ("CONSENT#email", "consents"),
        ("RELATION#parent-child#C-2", "relations"),
        ("METRIC#clv", "metrics"),
        ("WALLET#offer-1", "offers"),
        ("OPENREQ#FORGET", "openRequestMarkers"),
        ("CAMPAIGN#CMP-2026-SPRING", "campaigns"),
        ("LEDGER#2026-06-01T09:00:00Z#L-1", "pointsLedger"),
        ("SOMETHINGNEW#1", "other:somethingnew"),
    ],
)
def test_every_item_of_a_customer_falls_in_a_named_category(sort_key, category):
    # Unknown kinds are still counted (and erased): a new CRM feed must not be missed.
    assert category_of(sort_key) == category


def test_forget_has_the_crm_wording():
    assert (
        status_text(RequestType.FORGET, RequestStatus.COMPLETED) == "Forget Processing - Completed"
    )


def test_export_has_the_crm_wording():
    assert (
        status_text(RequestType.EXPORT, RequestStatus.COMPLETED) == "Export Processing - Completed"
    )
