"""What a local stack stopped earlier in the same process leaves behind, forgotten on start.

The handlers build their settings, clients and keyed hasher once per cold start (functools
caches, LambdaFunction's dependencies, powertools' parameter providers), and pynamodb keeps one
connection per model class, whose botocore client holds the endpoint it was made with. A second
stack in the same process (the benches, one after another) listens on a new moto port with a new
HMAC key: without this its handlers would still call the first, stopped moto. A fresh Lambda
container starts with none of it either."""

from __future__ import annotations

import sys

from aws_lambda_powertools.utilities.parameters import clear_caches
from pynamodb.models import Model

from functions.shared.wiring import LambdaFunction


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def forget_previous_stack() -> None:
    # Powertools keeps its SSM client (the old endpoint) and the HMAC key it read (the old key,
    # for KEY_CACHE_SECONDS) in module-level providers.
    clear_caches()
    for model in _subclasses(Model):
        # The class attribute pynamodb's Model._get_connection caches its TableConnection in.
        model._connection = None  # type: ignore[attr-defined]
    for name, module in list(sys.modules.items()):
        if not name.startswith("functions.") or module is None:
            continue
        for attribute in list(vars(module).values()):
            # The table-bound model classes (models.bind) are kept: their connections are reset
            # above, and callers may hold them.
            if isinstance(attribute, LambdaFunction):
                attribute.use(None)  # its dependencies are built afresh on the next invocation
                continue
            clear = getattr(attribute, "cache_clear", None)
            if callable(clear) and getattr(attribute, "__name__", "") != "bind":
                clear()
