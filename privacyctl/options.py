"""The options every privacyctl command takes, before or after its subcommand (`--api`, `--token`,
`--output`), where their defaults come from, and usage errors as one line."""

from __future__ import annotations

import argparse
import getpass
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

# Written by `make run` (infra/local/__main__.py), removed when it stops; LOCAL_STACK_FILE moves it.
STACK_FILE_VARIABLE = "LOCAL_STACK_FILE"
STACK_FILE_NAME = ".local-stack.json"
CHECKOUT = Path(__file__).resolve().parents[1]
OUTPUTS = ("text", "json")


class UsageError(Exception):
    """A mistake in how privacyctl was called: one line, exit 2."""


def default_token() -> str:
    return f"dev:{getpass.getuser()}:agent"


def _add_common(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: an option given before the subcommand is not overwritten by the subcommand's
    # own copy of it; unset ones are resolved in `connection()`.
    common = parser.add_argument_group("connection and output (before or after the command)")
    common.add_argument(
        "--api",
        default=argparse.SUPPRESS,
        help=(
            "the API's base URL (default: PRIVACYCTL_API, else the local stack's address from "
            f"{STACK_FILE_NAME}, which `make run` writes)"
        ),
    )
    common.add_argument(
        "--token",
        default=argparse.SUPPRESS,
        help=(
            "bearer token, bare or as 'Bearer ...' (default: PRIVACYCTL_TOKEN, else the local "
            "stack's development token dev:<OS user>:agent)"
        ),
    )
    common.add_argument(
        "--output",
        choices=OUTPUTS,
        default=argparse.SUPPRESS,
        help="text (default) or json: one JSON document on stdout, for scripts",
    )


class Parser(argparse.ArgumentParser):
    """Every parser and subparser of privacyctl (argparse makes subparsers of the parent's
    class): each takes the common options, and reports a usage error as one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _add_common(self)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


@dataclass(frozen=True)
class Connection:
    api: str
    token: str
    # Where the address came from, to say so when it cannot be reached.
    origin: str


def stack_file() -> Path | None:
    named = os.environ.get(STACK_FILE_VARIABLE)
    if named:
        return Path(named)
    for folder in (Path.cwd(), CHECKOUT):
        if (folder / STACK_FILE_NAME).is_file():
            return folder / STACK_FILE_NAME
    return None


def _from_stack_file() -> tuple[str, str] | None:
    path = stack_file()
    if path is None or not path.is_file():
        return None
    try:
        return str(json.loads(path.read_text())["api"]), str(path)
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(f"{path} is not a local stack file: remove it or give --api") from None


def connection(args: argparse.Namespace) -> Connection:
    token = getattr(args, "token", None) or os.environ.get("PRIVACYCTL_TOKEN") or default_token()
    # The flag takes the token; people paste the whole header value too.
    token = token.strip()
    if token.lower().startswith("bearer "):
        token = token[len("bearer ") :].strip()
    if getattr(args, "api", None):
        return Connection(args.api, token, "--api")
    if os.environ.get("PRIVACYCTL_API"):
        return Connection(os.environ["PRIVACYCTL_API"], token, "PRIVACYCTL_API")
    found = _from_stack_file()
    if found is None:
        raise UsageError(
            "no API address: start the local stack (make run), or give --api URL "
            "or set PRIVACYCTL_API"
        )
    return Connection(found[0], token, found[1])


def json_output(args: argparse.Namespace) -> bool:
    return getattr(args, "output", "text") == "json"
