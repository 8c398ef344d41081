"""An answer that takes the same time whichever way it went: a route whose work differs with a
secret (is this address a customer's?) waits until a fixed floor has passed, so its timing does
not tell what its body hides. The floor is set above the slower path's usual time; a path slower
than the floor still leaks, which is why it is a setting (PUBLIC_ANSWER_FLOOR_MS) to tune
against the measured figures (tests/bench/public_timing.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def no_sooner_than(
    seconds: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """The block's work, then a wait until `seconds` have passed since it began. On an error,
    too: a refusal must take as long as an acceptance."""
    started = clock()
    try:
        yield
    finally:
        left = started + seconds - clock()
        if left > 0:
            sleep(left)
