"""A text progress bar on stderr, for transfers of large audience files."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

# Files smaller than this move too fast for a bar to say anything.
LARGE_FILE_BYTES = 8 * 1024 * 1024


class ProgressBar:
    def __init__(self, label: str, total: int, stream: TextIO | None = None, width: int = 30):
        self._label, self._total, self._width = label, max(total, 1), width
        self._stream = stream or sys.stderr
        self._done = 0
        self._shown = -1
        self._lock = threading.Lock()  # boto3 reports from its transfer threads

    def __call__(self, amount: int) -> None:
        with self._lock:
            self._done = min(self._done + amount, self._total)
            percent = self._done * 100 // self._total
            if percent == self._shown:
                return
            self._shown = percent
            filled = self._width * percent // 100
            bar = "#" * filled + "-" * (self._width - filled)
            end = "\n" if percent == 100 else ""
            mib = self._done / 1024 / 1024
            self._stream.write(f"\r{self._label} [{bar}] {percent:3d}% {mib:.1f} MiB{end}")
            self._stream.flush()


def progress_for(label: str, total: int) -> ProgressBar | None:
    return ProgressBar(label, total) if total >= LARGE_FILE_BYTES else None
