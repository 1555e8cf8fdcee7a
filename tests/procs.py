"""The real `pln` in its own process (as a user runs it), and feeds to serve it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CRASHPOINT = REPO / "tests" / "faults" / "crashpoint.py"


def env_for(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a pln process on ``home`` (this checkout's companion)."""
    env = {**os.environ, "PLN_HOME": str(home), "PYTHONPATH": str(REPO), "NO_COLOR": "1",
           "PLN_PARSE_PROCESSES": "2"}
    env.update(extra)
    return env


def pln(home: Path, *args: str, timeout: float = 120, input: str | None = None,
        **env: str) -> subprocess.CompletedProcess[str]:
    """Run `pln ARGS` to the end; stdout and stderr captured as text."""
    return subprocess.run([sys.executable, "-m", "companion", *args], env=env_for(home, **env),
                          capture_output=True, text=True, timeout=timeout, check=False,
                          input=input, cwd=REPO)


def start(home: Path, *args: str, crash_at: str | None = None, **env: str) -> subprocess.Popen[str]:
    """Start `pln ARGS` (through tests/faults/crashpoint.py when ``crash_at`` is given)."""
    extra = dict(env)
    cmd = [sys.executable, "-m", "companion", *args]
    if crash_at is not None:
        extra["PLN_CRASH_AT"] = crash_at
        cmd = [sys.executable, str(CRASHPOINT), *args]
    return subprocess.Popen(cmd, env=env_for(home, **extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO)


def rss(feed: int, items: range, *, words: int = 0, week: str = "Nov 2026") -> str:
    """An RSS 2.0 feed (number ``feed``) with the items ``items``; item n is published on day
    n % 28 + 1 of ``week``'s month, 10:00 (``words``: extra text to make bodies bigger)."""
    extra = " ".join(f"w{n}" for n in range(words))
    entries = "".join(
        f"<item><title>Feed {feed} post {n}</title><link>https://blog{feed}.example/{n}</link>"
        f'<guid isPermaLink="false">f{feed}-{n}</guid>'
        f"<pubDate>{n % 28 + 1:02d} {week} 10:00:{n % 60:02d} GMT</pubDate>"
        f"<description>&lt;p&gt;Body of feed {feed} post {n} {extra}&lt;/p&gt;</description></item>"
        for n in items
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Feed {feed}</title><link>https://blog{feed}.example/</link>{entries}"
            "</channel></rss>")


def follow(home: Path, urls: list[str], settings: str = "") -> None:
    """Write config.toml by hand (no network at add time)."""
    home.mkdir(parents=True, exist_ok=True)
    text = f"[settings]\n{settings}\n"
    for u in urls:
        text += f'\n[[sources]]\nurl = "{u}"\n'
    (home / "config.toml").write_text(text, encoding="utf-8")


def items_json(home: Path, *args: str) -> list[dict[str, Any]]:
    """`pln inbox --all --json`, parsed (the test fails on any error)."""
    import json

    r = pln(home, "inbox", "--all", "--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]
