"""Issue 14 on the local stack: a ceased person stays out of the audience whatever form their
e-mail or phone takes in the file, a stranger's row is kept byte for byte whatever its form, an
entry an old deployment wrote with rule v1 still drops its person, CR-only files are screened."""

from __future__ import annotations

import io
import json
import unicodedata
import uuid

import pytest
from boto3.s3.transfer import TransferConfig

from functions.shared.domain import Suppression
from functions.shared.identifiers import IdentifierKind
from functions.shared.models import SuppressionItem, bind
from functions.shared.suppression import SuppressionRepository
from tests.integration import audiences
from tests.integration.conftest import run_request, unique_person
from tests.integration.test_cease_resume import _hasher

COLUMNS = {"email": "email", "phone": "phone"}
FULL_WIDTH = str.maketrans(
    "+0123456789@", "\uff0b\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff20"
)


def _person(stack, local: str) -> dict[str, str]:
    """A customer whose e-mail has an accent (so NFD differs) and whose phone is a GB mobile."""
    record = unique_person()
    digits = "".join(c for c in record["profile"]["phone"] if c.isdigit())[-6:]
    record["profile"]["email"] = f"{local}.{record['customerId'][2:]}@example.com"
    record["profile"]["phone"] = f"+44 7400 {digits}"
    stack.seed([record])
    return {
        "id": record["customerId"],
        "email": record["profile"]["email"],
        "digits": digits,
    }


def email_forms(email: str) -> list[str]:
    return [
        "\u200b" + email,
        "\ufeff" + email.upper(),
        email.replace("@", "\uff20"),
        "mailto:" + email,
        f"Ann Lee <{email}>",
        f'"Lee, Ann" <{email}>',
        email + ".",
        unicodedata.normalize("NFD", email),
    ]


def phone_forms(digits: str) -> list[str]:
    return [
        f"+447400{digits}",
        f"+44 07400 {digits}",
        f"447400{digits}",
        f"07400 {digits}",
        f"0044 7400 {digits}",
        f"+44 (0)7400 {digits}",
        f"tel:+44-7400-{digits}",
        f"+44 7400 {digits}".translate(FULL_WIDTH),
        f"+44\u20137400\u2013{digits}",
        f"+44\u20117400\u2011{digits}",
        f"+44\u200b7400{digits}",
        f"+44 7400 {digits} ext. 12",
    ]


def _csv_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"') else value


def _drop(stack, key: str, body: bytes, columns: dict[str, str] = COLUMNS) -> dict:
    audiences.s3(stack).upload_fileobj(
        io.BytesIO(body),
        audiences.bucket(stack),
        key,
        ExtraArgs={"Metadata": {"identifier-columns": json.dumps(columns)}},
        Config=TransferConfig(multipart_threshold=1),
    )
    return json.loads(audiences.read(stack, f"clean/{key.removeprefix('incoming/')}.report.json"))


@pytest.fixture
def people(stack, agent):
    ceased, stranger = _person(stack, "jos\u00e9"), _person(stack, "zo\u00eb")
    run_request(agent, ceased["id"], "CEASE_MARKETING")
    return ceased, stranger


def _rows(person: dict[str, str], n: int) -> list[tuple[str, str]]:
    emails = [(e, "") for e in email_forms(person["email"])]
    phones = [("", p) for p in phone_forms(person["digits"])]
    return [*emails, *phones][:n] if n else [*emails, *phones]


def test_a_csv_with_every_form_drops_the_ceased_and_keeps_strangers_byte_for_byte(stack, people):
    ceased, stranger = people
    header = "email,phone,note\r\n"
    dropped = [f"{_csv_field(e)},{_csv_field(p)},x\r\n" for e, p in _rows(ceased, 0)]
    kept = [f"{_csv_field(e)},{_csv_field(p)},y\r\n" for e, p in _rows(stranger, 0)]
    body = (header + "".join(r for pair in zip(dropped, kept, strict=True) for r in pair)).encode()
    name = f"forms-{uuid.uuid4().hex[:6]}.csv"
    report = _drop(stack, f"incoming/{name}", body)
    assert audiences.read(stack, f"clean/{name}") == (header + "".join(kept)).encode()
    assert report["dropped"] == {"CEASED": len(dropped)} and report["malformed"]["rows"] == 0


def test_json_lines_with_every_form(stack, people):
    ceased, stranger = people
    dropped = [json.dumps({"email": e, "phone": p}) + "\n" for e, p in _rows(ceased, 0)]
    kept = [
        json.dumps({"email": e, "phone": p}, ensure_ascii=False) + "\n"
        for e, p in _rows(stranger, 0)
    ]
    body = "".join(r for pair in zip(dropped, kept, strict=True) for r in pair).encode()
    name = f"forms-{uuid.uuid4().hex[:6]}.jsonl"
    report = _drop(stack, f"incoming/{name}", body)
    assert audiences.read(stack, f"clean/{name}") == "".join(kept).encode()
    assert report["dropped"] == {"CEASED": len(dropped)} and report["malformed"]["rows"] == 0


def test_a_cr_only_csv_is_screened_and_kept_rows_keep_their_bytes(stack, people):
    ceased, stranger = people
    header = "email,phone\r"
    kept = [f"{stranger['email']},+447400{stranger['digits']}\r", "other@example.com,\r"]
    body = header + f"{ceased['email']},\r" + kept[0] + f",07400 {ceased['digits']}\r" + kept[1]
    name = f"mac-{uuid.uuid4().hex[:6]}.csv"
    report = _drop(stack, f"incoming/{name}", body.encode())
    assert audiences.read(stack, f"clean/{name}") == (header + "".join(kept)).encode()
    assert (report["rowsIn"], report["rowsOut"]) == (4, 2)
    assert report["dropped"] == {"CEASED": 2}


def test_a_forgotten_persons_v1_tombstone_entries_still_drop_them(stack):
    """An old deployment forgot someone: it wrote FORGOTTEN entries hashed by rule v1 from their
    profile spellings, and their raw identifiers are gone. Written here directly, as it did."""
    hasher = _hasher()
    tag = uuid.uuid4().hex[:8]
    email = f"Old.{tag}@Example.com."  # v1 kept the trailing dot and the case of nothing else
    digits = str(int(tag, 16))[-6:].rjust(6, "0")
    phone = f"+44 07400 {digits}"  # v1 kept the trunk 0: +4407400...
    assert hasher.hash_v1(IdentifierKind.PHONE, phone) != hasher.hash(IdentifierKind.PHONE, phone)
    assert hasher.hash_v1(IdentifierKind.EMAIL, email) != hasher.hash(IdentifierKind.EMAIL, email)
    subject = hasher.customer(f"T-{tag}")
    entries = [
        Suppression(
            identifier_hash=hasher.hash_v1(kind, value),
            identifier_kind=kind,
            reason="FORGOTTEN",
            subject_hash=subject,
        )
        for kind, value in ((IdentifierKind.EMAIL, email), (IdentifierKind.PHONE, phone))
    ]
    SuppressionRepository(bind(SuppressionItem, stack.env["SUPPRESSION_TABLE"])).put_all(
        entries, "v1-deployment"
    )
    header = "email,phone\n"
    kept = "someone@example.com,+447400000001\n"
    body = header + f"{email.lower()},\n" + f",{phone}\n" + kept
    name = f"v1-{uuid.uuid4().hex[:6]}.csv"
    report = _drop(stack, f"incoming/{name}", body.encode())
    assert audiences.read(stack, f"clean/{name}") == (header + kept).encode()
    assert report["dropped"] == {"FORGOTTEN": 2}


def test_a_large_cr_only_file_is_split_and_screened_as_in_one_piece(stack, agent):
    """The split path reads the header from a copy of the header alone, and each part from its
    byte range: both must see bare CRs as record ends."""
    from tests.integration import test_audience_split as split

    ceased, forgotten = split._person(stack), split._person(stack)
    run_request(agent, ceased["id"], "CEASE_MARKETING")
    run_request(agent, forgotten["id"], "FORGET")
    body, bad_lines, dropped = split._audience(ceased, forgotten)
    body = body.replace(b"\n", b"\r")
    name = f"exports/mac-{uuid.uuid4().hex[:6]}.csv"
    split._drop(stack, name, body)
    job_id = split._deliver(stack, name)["jobId"]
    record = split._finished(stack, job_id)
    assert record["status"] == "SUCCEEDED" and record["execution"] == job_id, record.get("error")
    single = split.AudienceJob.from_dict(
        {
            "source": f"s3://{audiences.bucket(stack)}/{name}",
            "destination": f"s3://{audiences.bucket(stack)}/clean/single-{name}",
            "identifierColumns": split.COLUMNS,
        }
    )
    in_place = split._screen_in_place(stack, single)
    screened = audiences.read(stack, f"clean/{name}")
    assert screened == audiences.read(stack, f"clean/single-{name}")
    assert screened.startswith(split.HEADER.replace(b"\n", b"\r"))
    assert split._counts(record) == split._counts(in_place)
    assert record["dropped"] == dropped and record["malformed"]["lines"] == bad_lines
