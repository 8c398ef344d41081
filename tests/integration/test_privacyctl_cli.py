"""privacyctl as a user runs it: a separate process with no AWS credentials and no endpoint
variable, finding the stack through its stack file; every error one line on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from privacyctl.cli import main
from tests.integration import audiences
from tests.integration.conftest import run_request, seed_unique_person

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def person(stack):
    def make() -> dict[str, str]:
        record = seed_unique_person(stack)
        return {"id": record["customerId"], "email": record["profile"]["email"]}

    return make


@pytest.fixture
def cli(stack, tmp_path):
    stack_file = tmp_path / "local-stack.json"
    stack_file.write_text(json.dumps({"api": stack.api_url}))
    # Nothing of AWS: privacyctl must work with the API's address and a token alone.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "PRIVACYCTL_", "MOTO_", "LOCAL_"))
    }
    env["LOCAL_STACK_FILE"] = str(stack_file)

    def run(*argv: str, stdin: str = "", token: str | None = "dev:alice:agent"):
        args = [*argv, "--token", token] if token else list(argv)
        return subprocess.run(
            [sys.executable, "-m", "privacyctl", *args],
            cwd=tmp_path,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def _one_line_error(done) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def _leftovers(stack) -> list[str]:
    s3 = audiences.s3(stack)
    return [
        item["Key"]
        for prefix in ("requests/", "clean/requests/")
        for item in s3.list_objects_v2(Bucket=audiences.bucket(stack), Prefix=prefix).get(
            "Contents", []
        )
    ]


def test_filter_needs_no_aws_credentials_and_leaves_nothing_behind(
    stack, agent, person, cli, tmp_path
):
    ceased, kept = person(), person()
    run_request(agent, ceased["id"], "CEASE_MARKETING")
    audience = tmp_path / "spring.csv"
    audience.write_bytes(b"email,n\n" + f"{ceased['email']},1\n{kept['email']},2\n".encode())
    done = cli("filter", "spring.csv", "-o", "clean.csv", "--email-column", "email")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "clean.csv").read_bytes() == b"email,n\n" + f"{kept['email']},2\n".encode()
    report = json.loads((tmp_path / "clean.csv.report.json").read_text())
    assert report["rowsIn"] == 2 and report["rowsOut"] == 1 and report["dropped"] == {"CEASED": 1}
    assert "2 rows in, 1 out; dropped: CEASED 1" in done.stdout
    assert ceased["email"] not in done.stdout + done.stderr
    assert _leftovers(stack) == []

    as_json = cli("--output", "json", "filter", "spring.csv", "-o", "again.csv", "--email-column")
    assert as_json.returncode == 2  # --email-column needs its value: a usage error
    _one_line_error(as_json)
    as_json = cli("filter", "spring.csv", "-o", "again.csv", "--email-column", "email", "--output")
    assert as_json.returncode == 2
    done = cli(
        "filter", "spring.csv", "-o", "again.csv", "--email-column", "email", "--output=json"
    )
    assert done.returncode == 0 and json.loads(done.stdout)["rowsOut"] == 1


def test_a_failed_screening_removes_the_upload(stack, cli, tmp_path):
    (tmp_path / "a.csv").write_text("email\nx@example.com\n")
    done = cli("filter", "a.csv", "-o", "clean.csv", "--email-column", "mail")
    assert "error:" in _one_line_error(done)
    assert not (tmp_path / "clean.csv").exists()
    assert _leftovers(stack) == []


def test_paths_are_checked_before_anything_is_uploaded(stack, cli, tmp_path):
    before = _leftovers(stack)
    missing = cli("filter", "nope.csv", "-o", "clean.csv", "--email-column", "email")
    assert _one_line_error(missing) == "error: no such file: nope.csv"
    (tmp_path / "a.csv").write_text("email\nx@example.com\n")
    nowhere = cli("filter", "a.csv", "-o", "/nonexistent/x.csv", "--email-column", "email")
    assert "/nonexistent" in _one_line_error(nowhere)
    assert _leftovers(stack) == before


def test_global_options_go_after_the_command_and_bearer_is_accepted(stack, cli, new_customer):
    customer_id, _ = new_customer()
    done = cli(
        "customer", customer_id, "--api", stack.api_url, "--output", "json", token=None
    )  # the default token: dev:<OS user>:agent
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["customerId"] == customer_id
    done = cli("--output", "json", "customer", customer_id, token="Bearer dev:bob:agent")
    assert done.returncode == 0, done.stderr


def test_errors_are_one_line_never_a_traceback(stack, cli, tmp_path):
    assert "customer C 1001 was not found" in _one_line_error(cli("customer", "C 1001"))
    topic = cli(
        "consent", "C 1", "news letter", "--channel", "email", "--revoke", "--source", "crm"
    )
    assert "a topic is" in _one_line_error(topic) and "HTTP 400" in _one_line_error(topic)
    unauthorised = _one_line_error(cli("customer", "C-1001", token="nonsense"))
    assert "HTTP 401" in unauthorised and "--token" in unauthorised
    unreachable = _one_line_error(cli("customer", "C-1001", "--api", "http://127.0.0.1:9"))
    assert "cannot reach http://127.0.0.1:9" in unreachable and "--api" in unreachable
    assert "unrecognized arguments" in _one_line_error(cli("customer", "C-1", "--bogus"))
    (tmp_path / "local-stack.json").unlink()
    assert "no API address" in _one_line_error(cli("customer", "C-1001"))


def test_where_prints_the_address_for_scripts(stack, cli):
    done = cli("where")
    assert done.returncode == 0 and done.stdout.strip() == stack.api_url


def test_help_names_the_connection_options_and_the_default_token(cli):
    for command in ([], ["cease"], ["audit", "report"], ["filter"]):
        done = cli(*command, "--help", token=None)
        assert done.returncode == 0
        assert "--api" in done.stdout and "--token" in done.stdout, command
        assert "dev:<OS user>:agent" in done.stdout, command


def test_a_closed_pipe_is_quiet(stack, tmp_path):
    env = {**os.environ, "LOCAL_STACK_FILE": str(tmp_path / "none.json")}
    process = subprocess.Popen(
        [sys.executable, "-m", "privacyctl", "--api", stack.api_url, "customer", "C-1001"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # `| head` that has read enough before privacyctl writes
    _, err = process.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err


def test_output_json_for_an_action(stack, cli, new_customer):
    customer_id, _ = new_customer()
    done = cli("cease", customer_id, "--identity-verified", "--yes", "--output", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "COMPLETED"
    done = cli("resume", customer_id, "--identity-verified", "--no-confirm", "--output", "json")
    awaiting = json.loads(done.stdout)
    assert awaiting["status"] == "AWAITING_CONFIRMATION"
    assert cli("cancel", awaiting["requestId"]).returncode == 0


def test_ctrl_c_at_the_confirmation_says_what_was_left(stack, new_customer, capsys):
    customer_id, _ = new_customer()

    def interrupt(question: str) -> bool:
        raise KeyboardInterrupt

    argv = ["cease", customer_id, "--identity-verified", "--api", stack.api_url]
    assert main([*argv, "--token", "dev:alice:agent"], ask=interrupt) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "left AWAITING_CONFIRMATION" in err[0]
    assert "privacyctl confirm " in err[0] and "privacyctl cancel " in err[0]
