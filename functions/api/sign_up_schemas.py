"""The lite sign-up's and the offered topics' bodies and answers (functions/consents/signup.py):
public routes, so no answer names a customer."""

from __future__ import annotations

from pydantic import Field

from functions.api.schemas import Answer, Body
from functions.shared.domain import ConsentStatus


class SignUpBody(Body):
    """POST /public/signup: an address and the topic (and brand) it subscribes to."""

    email: str = Field(min_length=3, max_length=320)
    topic: str = Field(min_length=1, max_length=63)
    brand: str | None = Field(default=None, min_length=1, max_length=63)


class SignUpTokenBody(Body):
    """POST /public/signup/confirm: the token the confirmation e-mail carried (it seals the
    address, hence longer than a link's)."""

    token: str = Field(min_length=32, max_length=2048)


class SignUpAnswer(Answer):
    topic: str
    channel: str
    brand: str | None = None
    status: ConsentStatus


class TopicsAnswer(Answer):
    """What the preference centre offers: topics without a brand, and topics per brand."""

    topics: list[str]
    brands: dict[str, list[str]]
