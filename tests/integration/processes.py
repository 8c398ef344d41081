"""The local stack as a user starts it: `python -m infra.local` in a process of its own, with an
environment that points at no other stack (no AWS_* or MOTO_* of the test session's)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(*dropped: str, **values: str) -> dict[str, str]:
    """This process's environment less AWS_*, MOTO_* and `dropped` prefixes, plus `values`."""
    prefixes = ("AWS_", "MOTO_", *dropped)
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)} | values


def local_stack(env: dict[str, str], **popen: Any) -> subprocess.Popen[str]:
    """Its output on one text pipe, unless `popen` says otherwise."""
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True} | popen
    return subprocess.Popen([sys.executable, "-m", "infra.local"], cwd=ROOT, env=env, **options)
