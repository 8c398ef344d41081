"""Counting the AWS calls a bench makes: the handlers run in this process on the local stack,
so every call passes botocore's one client method."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import botocore.client


@contextmanager
def counted_calls(name: Callable[[str, str], str | None]) -> Iterator[Counter[str]]:
    """Counts each call under `name(service, operation)`; a call named None is not counted."""
    calls: Counter[str] = Counter()
    real_call = botocore.client.BaseClient._make_api_call

    def counting(self, operation, params):  # type: ignore[no-untyped-def]
        counted = name(self.meta.service_model.service_name, operation)
        if counted is not None:
            calls[counted] += 1
        return real_call(self, operation, params)

    botocore.client.BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = real_call  # type: ignore[method-assign]
