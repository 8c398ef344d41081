"""Every `privacyctl` and `curl` example of README.md, in the README's order, against a fresh
local stack with the demo customers: so the README cannot drift from what the product does.

The stack is `make run`'s own process (python -m infra.local) on free ports, not the session's
in-process stack: moto's backends are per process, and the examples expect the fresh demo. The
examples run as a user types them, in one shell (variables set by one line are used by the next),
from a scratch folder holding `.venv` and `events/` of this checkout, with no AWS credentials;
privacyctl finds the stack through its stack file. Each must exit 0 (curl: answer 2xx), except
where the README's own comment on the line says `exits 1`. Prompts are answered "y"."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass

import pytest

from tests.integration.processes import ROOT, clean_env, free_port, local_stack

README = ROOT / "README.md"
# A line the test runs: a privacyctl or curl command, or a shell variable the next ones use.
_RUNS = re.compile(r"(^|[\s$(|])(\.venv/bin/privacyctl|curl)\s")
_ASSIGNMENT = re.compile(r"^[A-Z_]+=")


@dataclass(frozen=True)
class Example:
    line: int
    command: str
    expect_failure: bool

    @property
    def counted(self) -> bool:
        return bool(_RUNS.search(self.command))


def examples(text: str) -> list[Example]:
    found: list[Example] = []
    in_block, pending, start = False, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            in_block = line.strip() == "```sh"
            continue
        if not in_block:
            continue
        if not pending:
            start = number
        pending += line + "\n"
        if line.rstrip().endswith("\\"):
            continue
        command, pending = pending.rstrip("\n"), ""
        first = command.lstrip()
        if first.startswith("#") or not first:
            continue
        if _RUNS.search(command) or _ASSIGNMENT.match(first):
            found.append(Example(start, command, "exits 1" in command.rsplit("#", 1)[-1]))
    return found


def _script(found: list[Example]) -> str:
    lines = [
        "set -u -o pipefail",
        # Every prompt answered yes; curl fails on an HTTP error answer, as the README says 2xx.
        "exec < <(yes y)",
        'curl() { command curl --fail-with-body "$@"; }',
    ]
    for index, example in enumerate(found):
        lines.append(f"echo '::: example {index} (README line {example.line})'")
        # Its own lines, trailing comment and all; $? is the command's (or the assignment's).
        lines.append(example.command)
        if example.expect_failure:
            lines.append(f"[ $? -ne 0 ] || {{ echo '::: example {index} should fail'; exit 1; }}")
        else:
            lines.append(
                f"rc=$?; [ $rc -eq 0 ] || {{ echo '::: example {index}: exit '$rc; exit 1; }}"
            )
    lines.append("echo '::: all examples ran'")
    return "\n".join(lines) + "\n"


@pytest.fixture
def fresh_stack(tmp_path):
    stack_file = tmp_path / "local-stack.json"
    env = clean_env(LOCAL_API_PORT=str(free_port()), LOCAL_STACK_FILE=str(stack_file))
    process = local_stack(env)
    deadline = time.monotonic() + 120
    while not stack_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(process.stdout.read() if process.stdout else "no stack")
        time.sleep(0.2)
    try:
        yield stack_file
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)


def test_the_readme_shows_its_examples():
    found = examples(README.read_text())
    assert sum(e.counted for e in found) >= 20
    # Placeholders are shell variables set by an earlier line, never words to replace by hand.
    placeholder = re.compile(r"(?<![$\w])(REQUEST_ID|CAMPAIGN_ID|UPLOAD_ID|TOKEN)(?![=\w])")
    assert not [e.line for e in found if placeholder.search(e.command)]
    assert "../shared" not in README.read_text()


def test_every_readme_example_runs_in_order_on_a_fresh_stack(fresh_stack, tmp_path):
    if shutil.which("jq") is None:
        raise AssertionError("the README's examples use jq: install it (apt-get install jq)")
    found = examples(README.read_text())
    work = tmp_path / "work"
    work.mkdir()
    for name in (".venv", "events"):
        (work / name).symlink_to(ROOT / name)
    env = clean_env("PRIVACYCTL_", "LOCAL_API", LOCAL_STACK_FILE=str(fresh_stack))
    done = subprocess.run(
        ["bash", "-c", _script(found)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "::: all examples ran" in done.stdout, output[-6000:]
    assert "Traceback" not in output, output[-6000:]
    print(done.stdout)
    counted = sum(e.counted for e in found)
    print(f"README: {counted} privacyctl/curl examples ran in order ({len(found)} lines in all)")
    assert (work / "clean.csv").exists() and (work / "report.summary.csv").exists()
