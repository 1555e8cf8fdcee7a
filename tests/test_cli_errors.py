"""Errors become one clear line and an exit code at the CLI boundary; tracebacks only with
PLN_DEBUG=1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from companion import __version__

REPO = Path(__file__).resolve().parents[1]


def pln(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "companion", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, cwd=REPO)


def test_version_and_help(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("--version").stdout.strip() == f"pln {__version__}"
    out = cli("--help").stdout
    for command in ("sync", "inbox", "show", "read", "star", "source", "accounts", "init"):
        assert command in out


def test_usage_errors_exit_2(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("inbox", "--limit", "zero", code=2)
    assert "Traceback" not in r.stderr
    r = cli("inbox", "--limit", "0", code=2)
    assert r.stderr.strip() == "error: bad --limit 0: must be at least 1"
    r = cli("nonsense", code=2)
    assert "No such command" in r.stderr


def test_no_traceback_without_debug_and_traceback_with_it(pln_home: Path) -> None:
    pln_home.mkdir(parents=True)
    (pln_home / "config.toml").write_text("[settings]\nworkers = -1\n")
    r = pln("source", "list")
    assert r.returncode == 2
    assert r.stderr.strip() == "error: config.toml: settings.workers: must be at least 1 (at line 2)"
    r = pln("source", "list", env={"PLN_DEBUG": "1"})
    assert "Traceback" in r.stderr and "ConfigError" in r.stderr


@pytest.mark.parametrize("args", [["read"], ["read", "abcd", "--all"], ["star", "zz"]])
def test_read_usage(cli, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    r = cli(*args, code=2)
    assert r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1


def test_remote_text_cannot_inject_markup_into_errors(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("source", "add", "[bold red]\x1b[2Jx", code=2)
    assert "\x1b" not in r.stderr and "[bold red]" in r.stderr
