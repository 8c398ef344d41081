"""What privacyctl prints: a command's result as text or (--output json) one JSON document on
stdout; progress and notes on stdout in text mode, on stderr in JSON mode so stdout stays
parseable."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from privacyctl.options import json_output


class Interrupted(Exception):
    """Ctrl-C after something was left on the server: the message says what and how to finish."""


def say(args: argparse.Namespace, line: str) -> None:
    print(line, file=sys.stderr if json_output(args) else sys.stdout, flush=True)


def emit(args: argparse.Namespace, result: dict[str, Any], text: str | None = None) -> None:
    """The result: JSON with --output json; otherwise `text`, or the JSON when there is none.
    An action that already said its outcome line by line passes text="" in text mode."""
    if json_output(args) or text is None:
        print(json.dumps(result, indent=2))
    elif text:
        print(text)
