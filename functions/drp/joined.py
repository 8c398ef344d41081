"""A DRP exercise and the product's change it maps to are one transaction: the replay marker
and the DRP request item join the first unit of work the product's own service commits (the
privacy request's creation, or the consent change), so a replay, a refusal or a failure of
either writes nothing at all."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from functions.shared.audit_entries import AuditEntry
from functions.shared.unit_of_work import TableWrite, UnitOfWork


class JoinedWork:
    """Hands out units of work; the first one also carries `writes`."""

    def __init__(self, make: Callable[[], UnitOfWork], writes: Sequence[TableWrite]) -> None:
        self._make = make
        self._writes = list(writes)
        self.committed = False

    def __call__(self) -> UnitOfWork:
        if self.committed or not self._writes:
            return self._make()
        return _First(self, self._make())

    def commit_alone(self) -> None:
        """When the product's service found nothing to change (a consent already as asked), the
        DRP writes are committed by themselves."""
        if not self.committed:
            work = self._make()
            work.add(*self._writes)
            work.commit()
            self.committed = True


class _First:
    def __init__(self, owner: JoinedWork, inner: UnitOfWork) -> None:
        self._owner = owner
        self._inner = inner

    def add(self, *writes: Any) -> None:
        self._inner.add(*writes)

    def record(self, *entries: AuditEntry) -> None:
        self._inner.record(*entries)

    def commit(self) -> None:
        if not self._owner.committed:
            self._inner.add(*self._owner._writes)
        self._inner.commit()
        self._owner.committed = True
