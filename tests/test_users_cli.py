"""Who may log in to the workspace: ``popsync users add | list | remove`` keep a users file with
hashed passwords; ``popsync serve`` says what is missing before it starts."""

from __future__ import annotations

import json

from click.testing import CliRunner

from popsync.cli import main
from popsync.web import accounts


def _invoke(*args: str, stdin: str | None = None):
    runner = CliRunner(env={"POPSYNC_DATABASE_URL": None, "POPSYNC_USERS_FILE": None})
    return runner.invoke(main, list(args), input=stdin, catch_exceptions=False)


def test_users_are_added_listed_and_removed_with_hashed_passwords(tmp_path):
    added = _invoke("users", "add", "lan", "--role", "steward", "--password-stdin",
                    "--workdir", str(tmp_path), stdin="một mật khẩu dài\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    stored = json.loads((tmp_path / "users.json").read_text(encoding="utf-8"))
    assert stored["lan"]["role"] == "steward"
    assert "một mật khẩu dài" not in json.dumps(stored, ensure_ascii=False)
    assert oct((tmp_path / "users.json").stat().st_mode & 0o777) == "0o600"
    assert accounts.authenticate(tmp_path / "users.json", "lan", "một mật khẩu dài") == "steward"
    assert accounts.authenticate(tmp_path / "users.json", "lan", "wrong") is None
    assert accounts.authenticate(tmp_path / "users.json", "nobody", "x") is None
    short = _invoke("users", "add", "minh", "--role", "viewer", "--password-stdin",
                    "--workdir", str(tmp_path), stdin="short\n")  # fmt: skip
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    assert _invoke("users", "list", "--workdir", str(tmp_path)).output == "lan\tsteward\n"
    assert _invoke("users", "remove", "lan", "--workdir", str(tmp_path)).exit_code == 0
    assert _invoke("users", "list", "--workdir", str(tmp_path)).output == ""


def test_serve_says_what_is_missing(tmp_path):
    nobody = _invoke("serve", "--workdir", str(tmp_path))
    assert nobody.exit_code == 2 and "popsync users add" in nobody.output
    _invoke("users", "add", "lan", "--role", "steward", "--password-stdin",
            "--workdir", str(tmp_path), stdin="một mật khẩu dài\n")  # fmt: skip
    empty = _invoke("serve", "--workdir", str(tmp_path))
    assert empty.exit_code == 2 and "run 'popsync run'" in empty.output
