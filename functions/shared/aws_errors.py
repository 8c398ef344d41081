"""The one place that knows AWS's exception types: repositories are wrapped by `domain_errors`,
so that services and handlers see domain errors only (a failure AWS reports is a TransientError:
every write path is idempotent, so it is safe to retry)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from functions.shared.errors import TransientError

AWS_ERRORS = (PynamoDBException, BotoCoreError, ClientError)
C = TypeVar("C", bound=type)


def _transient(exc: Exception) -> TransientError:
    # The exception's name only: AWS messages can quote keys, and keys can hold ids.
    return TransientError(f"{type(exc).__name__} from AWS; safe to retry")


def _wrap(method: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from method(*args, **kwargs)
            except AWS_ERRORS as exc:
                raise _transient(exc) from exc

        return generator

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except AWS_ERRORS as exc:
            raise _transient(exc) from exc

    return call


def domain_errors(cls: C) -> C:
    """Wrap every public method of a repository so that it raises domain errors only."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(member):
            setattr(cls, name, _wrap(member))
    return cls
