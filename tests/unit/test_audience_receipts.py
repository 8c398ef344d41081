"""Issue 16 without a network: which keys an audience location may have, and the screening
receipt's canonical form, signature and checks (signed here with a local P-256 key, as KMS's
ECC_NIST_P256 key signs with ECDSA_SHA_256)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from functions.audience_filter.jobs import AudienceJob, S3Location
from functions.audience_filter.keys import validate_key
from functions.audience_filter.receipts import (
    Digest,
    ReceiptError,
    canonical,
    digest_chunks,
    parse_receipt,
    pem,
    receipt_body,
    signed_message,
    signed_receipt,
    verify_receipt,
)
from functions.shared.errors import ValidationError

REFUSED = {
    "dot-dot": "clean/../incoming/x.csv",
    "dot-dot at the end": "clean/..",
    "dot": "clean/./x.csv",
    "empty segment": "clean//x.csv",
    "leading slash": "/clean/x.csv",
    "trailing slash": "clean/x/",
    "backslashes": "clean\\..\\incoming\\x.csv",
    "percent-encoded dots": "clean/%2e%2e/incoming/x.csv",
    "percent-encoded slash": "clean/..%2Fincoming/x.csv",
    "full-width dots (NFKC ..)": "clean/\uff0e\uff0e/incoming/x.csv",
    "two-dot leader (NFKC ..)": "clean/\u2025/incoming/x.csv",
    "NUL": "clean/x\x00.csv",
    "newline": "clean/x\n.csv",
    "DEL": "clean/x\x7f.csv",
    "C1 control": "clean/x\x85.csv",
    "bidi override": "clean/\u202ex.csv",
    "zero-width space": "clean/x\u200b.csv",
    "line separator": "clean/x\u2028.csv",
    "lone surrogate": "clean/x\ud800.csv",
    "over 1024 bytes": "clean/" + "\u00e9" * 510 + ".csv",
    "empty": "",
}
ACCEPTED = [
    "clean/spring.csv",
    "clean/requests/0123abcd/audience.csv.gz",
    "clean/Zo\u00eb list 2026-12.csv",
    "clean/a..b/c...csv",  # dots inside a name are a name
    "clean/.hidden.csv",
    "clean/" + "a" * 1014 + ".csv",  # exactly 1024 bytes
]


@pytest.mark.parametrize("key", REFUSED.values(), ids=REFUSED.keys())
def test_keys_that_could_mean_another_key_are_refused(key):
    with pytest.raises(ValidationError) as caught:
        validate_key(key)
    assert key not in str(caught.value) or not key  # the key is never echoed
    with pytest.raises(ValidationError):
        S3Location("audiences", key)
    with pytest.raises(ValidationError):
        AudienceJob.from_dict(
            {
                "source": "s3://audiences/exports/a.csv",
                "destination": f"s3://audiences/{key}",
                "identifierColumns": {"email": "email"},
            }
        )


@pytest.mark.parametrize("key", ACCEPTED)
def test_plain_names_are_keys(key):
    validate_key(key)
    assert S3Location.parse(f"s3://audiences/{key}").key == key


@pytest.mark.parametrize("bucket", ["", "A", "ab", "a_b", "a..b", "-ab", "x" * 64])
def test_bucket_names_follow_s3s_rules(bucket):
    with pytest.raises(ValidationError):
        S3Location(bucket, "clean/x.csv")


@pytest.mark.parametrize("suffix", [".receipt.json", ".report.json"])
def test_a_destination_may_not_take_the_name_of_a_receipt_or_report(suffix):
    with pytest.raises(ValidationError, match="must not end in"):
        AudienceJob.from_dict(
            {
                "source": "s3://audiences/exports/a.csv",
                "destination": f"s3://audiences/clean/legit.csv{suffix}",
                "identifierColumns": {"email": "email"},
                "format": "csv",
            }
        )


JOB = {
    "jobId": "7d1f0c1e-0000-4000-8000-000000000001",
    "source": "s3://audiences/exports/spring.csv",
    "destination": "s3://audiences/clean/spring.csv",
    "identifierColumns": {"email": "email"},
    "format": "csv",
    "topic": "newsletter",
    "requestedBy": "alice",
}
COUNTS = {
    "rowsIn": 3,
    "rowsOut": 1,
    "dropped": {"CEASED": 1, "OPTED_OUT": 1},
    "malformed": {"rows": 0, "byCause": {}, "lines": [], "linesTruncated": False},
}
CLEAN = b"email\nkept@example.org\n"


def _body(clean: bytes = CLEAN) -> dict:
    return receipt_body(
        job=JOB,
        source=Digest("ab" * 32, 77),
        destination=digest_chunks([clean]),
        snapshot_at="2026-12-01T23:00:00Z",
        entries=42,
        counts=COUNTS,
        issued_at="2026-12-01T23:00:01Z",
    )


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _public(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _signed(key: ec.EllipticCurvePrivateKey, body: dict) -> dict:
    signature = key.sign(signed_message(body), ec.ECDSA(hashes.SHA256()))
    return json.loads(json.dumps(signed_receipt(body, "arn:aws:kms:key/receipts", signature)))


def test_the_receipt_holds_hashes_names_and_counts_only():
    body = _body()
    assert body == {
        "version": 1,
        "jobId": JOB["jobId"],
        "caller": "alice",
        "source": {"uri": JOB["source"], "sha256": "ab" * 32, "bytes": 77},
        "destination": {
            "uri": JOB["destination"],
            "sha256": hashlib.sha256(CLEAN).hexdigest(),
            "bytes": len(CLEAN),
        },
        "format": "csv",
        "identifierColumns": {"email": "email"},
        "topic": "newsletter",
        "index": {"snapshotAt": "2026-12-01T23:00:00Z", "entries": 42},
        "counts": {
            "rowsIn": 3,
            "kept": 1,
            "dropped": {"CEASED": 1, "OPTED_OUT": 1},
            "malformed": 0,
        },
        "issuedAt": "2026-12-01T23:00:01Z",
    }
    assert "kept@example.org" not in json.dumps(body)


def test_the_canonical_form_is_sorted_compact_utf8_and_signed_through_its_digest():
    body = {"b": 1, "a": {"d": "\u00e9", "c": [1, 2]}}
    assert canonical(body) == '{"a":{"c":[1,2],"d":"\u00e9"},"b":1}'.encode()
    assert canonical(body) == canonical(json.loads(json.dumps(body, indent=3)))
    expected = hashlib.sha256(canonical(body)).hexdigest().encode()
    assert signed_message(body) == b"privacy-audience-receipt/v1\n" + expected
    assert len(signed_message(_body())) < 4096  # KMS signs RAW messages up to 4,096 bytes


def test_a_genuine_receipt_verifies_with_the_der_or_pem_key(key):
    receipt = _signed(key, _body())
    for public in (_public(key), pem(_public(key)).encode()):
        assert verify_receipt(digest_chunks([CLEAN]), receipt, public)["jobId"] == JOB["jobId"]
    verify_receipt(digest_chunks([CLEAN]), receipt, _public(key), uri=JOB["destination"])


def test_a_changed_byte_a_swapped_receipt_and_another_location_fail(key):
    receipt = _signed(key, _body())
    with pytest.raises(ReceiptError, match="does not match"):
        verify_receipt(digest_chunks([CLEAN.replace(b"k", b"K")]), receipt, _public(key))
    other = _signed(key, _body(b"email\nsomeone@example.org\n"))
    with pytest.raises(ReceiptError, match="another file"):
        verify_receipt(digest_chunks([CLEAN]), other, _public(key))
    with pytest.raises(ReceiptError, match="not of"):
        verify_receipt(digest_chunks([CLEAN]), receipt, _public(key), "s3://audiences/clean/x")


@pytest.mark.parametrize(
    "field, value",
    [
        ("counts", {"rowsIn": 3, "kept": 3, "dropped": {}, "malformed": 0}),
        ("identifierColumns", {"customerId": "name"}),
        ("caller", "mallory"),
        ("topic", None),
        ("jobId", "another"),
    ],
)
def test_any_altered_field_breaks_the_signature(key, field, value):
    receipt = _signed(key, _body())
    receipt["receipt"][field] = value
    with pytest.raises(ReceiptError, match="signature"):
        verify_receipt(digest_chunks([CLEAN]), receipt, _public(key))


def test_a_receipt_signed_with_another_key_fails_whatever_key_it_names(key):
    forger = ec.generate_private_key(ec.SECP256R1())
    receipt = _signed(forger, _body())
    receipt["signature"]["keyId"] = "arn:aws:kms:key/receipts"
    with pytest.raises(ReceiptError, match="signature"):
        verify_receipt(digest_chunks([CLEAN]), receipt, _public(key))
    receipt["signature"]["value"] = base64.b64encode(b"not a signature").decode()
    with pytest.raises(ReceiptError, match="signature"):
        verify_receipt(digest_chunks([CLEAN]), receipt, _public(key))


@pytest.mark.parametrize(
    "raw",
    [b"", b"[]", b"{}", b'{"receipt": {}, "signature": {}}', b'{"receipt": 1, "signature": 2}'],
)
def test_what_is_not_a_receipt_says_so(raw):
    with pytest.raises(ReceiptError, match="not a screening receipt"):
        parse_receipt(raw)
