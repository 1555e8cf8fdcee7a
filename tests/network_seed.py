"""A mastodon_mock network for issue 17's tests: several local accounts (carol approves
followers by hand), a remote one, alice following bob; helpers to drive `pln` on it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import tomlkit
from mastodon_mock.config import SeedAccount, SeedConfig, SeedFollow

LOCAL = ("alice", "bob", "carol", "dan", "erin", "frank", "gina", "ivy")
DOMAIN = "mock.local"  # mastodon_mock's web domain: local handles are @user@mock.local


def seed(*, extra_follows: int = 0) -> SeedConfig:
    """alice..ivy (with tokens; carol locked), hal@remote.example (remote, no token),
    alice -> bob; ``extra_follows`` more local accounts u000… that alice follows."""
    accounts = [SeedAccount(username=u, display_name=u.title(), locked=(u == "carol"),
                            access_token=f"{u}_token") for u in LOCAL]
    accounts.append(SeedAccount(username="hal", display_name="Hal", domain="remote.example"))
    extra = [f"u{n:03d}" for n in range(extra_follows)]
    accounts += [SeedAccount(username=u, display_name=u.upper()) for u in extra]
    follows = [SeedFollow(follower="alice", following="bob")]
    follows += [SeedFollow(follower="alice", following=u) for u in extra]
    return SeedConfig(accounts=accounts, follows=follows)


@contextmanager
def mock_server(**kw: Any) -> Iterator[Any]:
    from mastodon_mock.testing.server import MockServer

    with MockServer(seed=seed(**kw)) as srv:
        yield srv


def handle(user: str) -> str:
    return f"@{user}@{DOMAIN}"


def login(cli: Any, base_url: str, user: str = "alice") -> None:
    cli("login", base_url, "--token", f"{user}_token")


def sources(cli: Any) -> list[dict[str, Any]]:
    return json.loads(cli("source", "list", "--json").stdout)


def source_id(cli: Any, spec: str) -> str:
    found = [s["id"] for s in sources(cli) if s["spec"] == spec]
    assert len(found) == 1, sources(cli)
    return str(found[0])


def set_settings(pln_home: Any, **values: Any) -> None:
    cfg = pln_home / "config.toml"
    doc = tomlkit.parse(cfg.read_text() if cfg.exists() else "")
    doc.setdefault("settings", tomlkit.table())
    for k, v in values.items():
        doc["settings"][k] = v
    cfg.write_text(tomlkit.dumps(doc))


def inbox(cli: Any) -> list[dict[str, Any]]:
    return json.loads(cli("inbox", "--all", "--json", "--limit", "10000").stdout)


def by_url(cli: Any) -> dict[str, dict[str, Any]]:
    return {i["url"]: i for i in inbox(cli)}
