"""What an audience file's bucket name and key may be. S3 keys are opaque strings, but the keys
are also read by people, by IAM prefix conditions and by tools that treat them as paths: a key
is refused unless it means exactly one thing to all of them (issue 16: `clean/../incoming/x.csv`
was accepted as a destination under clean/).

Refused: an empty key or segment (`a//b`, a leading `/`), the segments `.` and `..` (also in
the forms NFKC folds to them, e.g. full-width dots), backslashes (a path separator elsewhere),
`%` (a percent-encoded `..` or `/` decodes to a different key in whatever decodes it next:
an S3 event's keys arrive URL-encoded already), control, format (zero-width, bidi) and
separator characters, unpaired surrogates, and keys over S3's 1,024 UTF-8 bytes."""

from __future__ import annotations

import re
import unicodedata

from functions.shared.errors import ValidationError

MAX_KEY_BYTES = 1024
# S3's rules for new buckets (lower case, digits, dots and hyphens; 3-63 characters).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Cc control, Cf format, Cs surrogate, Co private use, Cn unassigned, Zl/Zp line and paragraph
# separators: none of them belongs in a file name, several hide what a key says.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def validate_bucket(bucket: str) -> None:
    if not isinstance(bucket, str) or not _BUCKET.match(bucket) or ".." in bucket:
        raise ValidationError("an audience location names an S3 bucket: s3://bucket/key")


def validate_key(key: str) -> None:
    """Raises ValidationError (a 400 through the API) for a key that is not plainly one name.
    Messages never echo the key: it could hold anything the caller sent."""
    if not isinstance(key, str) or not key:
        raise ValidationError("an audience key must not be empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValidationError("an audience key must be valid Unicode text") from None
    if size > MAX_KEY_BYTES:
        raise ValidationError(f"an audience key must be at most {MAX_KEY_BYTES} bytes")
    if key.startswith("/"):
        raise ValidationError("an audience key must not start with /")
    if "\\" in key or "%" in key:
        raise ValidationError("an audience key must not contain a backslash or %")
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in key):
        raise ValidationError("an audience key must not contain control or invisible characters")
    for form in {key, unicodedata.normalize("NFKC", key)}:
        for segment in form.split("/"):
            if segment in ("", ".", ".."):
                raise ValidationError("an audience key's segments must not be empty, '.' or '..'")
