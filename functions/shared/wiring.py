"""Builds each function's dependencies once per cold start, from its typed settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from functions.shared.identifiers import KeyedHasher
from functions.shared.keys import load_hasher
from functions.shared.repositories import Repositories, build_repositories
from functions.shared.repositories.digests import DigestStore
from functions.shared.repositories.exports import ExportFiles
from functions.shared.repositories.workflow import EventPublisher, Workflow
from functions.shared.settings import (
    ApiSettings,
    ExportBucketSettings,
    Settings,
    WorkflowSettings,
)

S = TypeVar("S", bound=Settings)


@dataclass(frozen=True)
class Dependencies:
    repos: Repositories
    hasher: KeyedHasher
    workflow: Workflow
    events: EventPublisher | None = None
    exports: ExportFiles | None = None
    digests: DigestStore | None = None


@cache
def settings_of(cls: type[S]) -> S:
    return cls.from_env()


@cache
def dependencies(cls: type[WorkflowSettings]) -> Dependencies:
    settings = settings_of(cls)
    hasher = load_hasher(settings)
    return Dependencies(
        repos=build_repositories(settings, hasher),
        hasher=hasher,
        # The API and the campaign's outcome step submit privacy requests.
        workflow=Workflow(getattr(settings, "state_machine_arn", None)),
        # Completion announces requests; the API (when given a bus) announces consent changes.
        events=EventPublisher(bus) if (bus := getattr(settings, "event_bus_name", None)) else None,
        exports=(
            ExportFiles(settings.exports_bucket)
            if isinstance(settings, ExportBucketSettings)
            else None
        ),
        digests=(
            DigestStore(settings.audit_digest_bucket) if isinstance(settings, ApiSettings) else None
        ),
    )
