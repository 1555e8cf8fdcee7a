"""Shared fixtures: an isolated PLN_HOME for every test, a real feed server on loopback,
a real Mastodon-shaped server (mastodon_mock), and a CLI runner."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.feedserver import FeedServer

REPO = Path(__file__).resolve().parent.parent
def _shared_dir() -> Path:
    """../shared beside this checkout (as CI lays it out), else beside the repository this
    checkout was cloned from (a clean clone in a temp dir), else $PLN_SHARED."""
    import os
    import subprocess

    candidates = [REPO.parent / "shared"]
    try:
        origin = subprocess.run(["git", "-C", str(REPO), "config", "remote.origin.url"],
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        origin = ""
    if origin and Path(origin).is_dir():
        candidates.append(Path(origin).resolve().parent / "shared")
    if os.environ.get("PLN_SHARED"):
        candidates.insert(0, Path(os.environ["PLN_SHARED"]))
    return next((c for c in candidates if (c / "corpus").is_dir()), candidates[0])


SHARED = _shared_dir()
CORPUS = SHARED / "corpus"


@pytest.fixture(autouse=True)
def pln_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own PLN_HOME; the real home is never touched."""
    home = tmp_path / "plnhome"
    monkeypatch.setenv("PLN_HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("PLN_LOCK_TIMEOUT", "2")
    monkeypatch.delenv("PLN_DEBUG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "fakehome"))  # platformdirs can't reach the real one
    return home


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A real HTTP server on 127.0.0.1 (see tests/feedserver.py)."""
    srv = FeedServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def mastodon() -> Iterator[Any]:
    """A real Mastodon-shaped HTTP server on loopback, seeded with alice/bob/carol; a new one
    for every test (its rate-limit counters outlive a reset, so one server is not shared)."""
    from mastodon_mock.testing.server import MockServer

    srv = MockServer().start()
    try:
        yield srv
    finally:
        stop_later(srv)


_stopping: list[threading.Thread] = []


def stop_later(srv: Any) -> None:
    """Stop a MockServer without waiting for it: uvicorn notices a stop request on its next
    0.1 s tick and then closes its connections, about 0.2 s in all, which ~90 teardowns paid
    one after the other (issue 19). Its port is its own, so the next test need not wait; the
    session waits for every server at its end (``pytest_sessionfinish``)."""
    t = threading.Thread(target=srv.stop, name="mockserver-stop", daemon=True)
    t.start()
    _stopping.append(t)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for t in _stopping:
        t.join(timeout=10)


class Cli:
    """Runs the Typer app in-process; stdout and stderr apart."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, code: int | None = 0) -> Any:
        from companion.cli.app import app

        result = self.runner.invoke(app, list(args), input=input, catch_exceptions=False)
        if code is not None:
            assert result.exit_code == code, (
                f"pln {' '.join(args)} exited {result.exit_code}, expected {code}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result


@pytest.fixture
def cli() -> Cli:
    return Cli()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("PLN_HOME", "/nonexistent-pln-home-set-by-fixture")


def _hypothesis_profiles() -> None:
    """Property tests (tests/test_properties.py): no per-example deadline (the machine is
    shared, and a slow example is not a wrong one); derandomized without an example database
    in CI and under bench/mutation.py (PLN_HYPOTHESIS_PROFILE=mutation), so a run is
    repeatable there."""
    from hypothesis import settings

    settings.register_profile("pln", deadline=None)
    settings.register_profile("pln-ci", settings.get_profile("ci"), deadline=None)
    settings.register_profile("mutation", deadline=None, database=None, derandomize=True)
    default = "pln-ci" if os.environ.get("CI") else "pln"
    settings.load_profile(os.environ.get("PLN_HYPOTHESIS_PROFILE", default))


_hypothesis_profiles()
