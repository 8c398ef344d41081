"""pynamodb sends condition checks, deletes, puts, updates in that order, whatever order they were
added in; a cancellation reason must be matched to the operation that caused it."""

from functions.shared.unit_of_work import _Recorder


class _FakeWrite:
    def condition_check(self, *args, **kwargs): ...
    def delete(self, *args, **kwargs): ...
    def save(self, *args, **kwargs): ...
    def update(self, *args, **kwargs): ...


def test_reasons_are_matched_to_operations_in_the_order_added():
    recorder = _Recorder(_FakeWrite())
    for kind in ("update", "delete", "save", "condition_check", "save"):
        getattr(recorder, kind)()
    # As sent: condition_check, delete, save, save, update.
    sent = ["check", "delete", "save-1", "save-2", "update"]
    assert recorder.by_operation(sent) == ["update", "delete", "save-1", "check", "save-2"]
