"""`pln login` both ways (a token; the OAuth code flow with the code pasted on stdin),
`pln accounts`, `pln logout`, against a real Mastodon-API server (mastodon_mock)."""

from __future__ import annotations

import json
import os
import stat
from typing import Any

import orjson

from tests.feedserver import FeedServer


def creds(pln_home: Any) -> dict[str, Any]:
    return orjson.loads((pln_home / "credentials.json").read_bytes())  # type: ignore[no-any-return]


def test_login_with_token(cli: Any, mastodon: Any, pln_home: Any) -> None:
    res = cli("login", mastodon.base_url, "--token", "alice_token")
    assert res.stdout.strip() == (
        f"logged in as @alice@mock.local on {mastodon.base_url} (account name: alice)"
    )
    assert "alice_token" not in res.stdout + res.stderr
    data = creds(pln_home)
    assert data["accounts"]["alice"]["token"] == "alice_token"
    assert data["default"] == "alice"
    assert stat.S_IMODE(os.stat(pln_home / "credentials.json").st_mode) == 0o600
    rows = json.loads(cli("accounts", "--json").stdout)
    assert rows == [{"name": "alice", "instance": mastodon.base_url,
                     "handle": "@alice@mock.local", "default": True}]
    assert "alice_token" not in cli("accounts").stdout


def test_login_with_token_from_stdin_and_several_accounts(cli: Any, mastodon: Any) -> None:
    cli("login", mastodon.base_url, "--token", "-", input="bob_token\n")
    cli("login", mastodon.base_url, "--token", "carol_token", "--name", "work")
    rows = json.loads(cli("accounts", "--json").stdout)
    assert [(r["name"], r["handle"], r["default"]) for r in rows] == [
        ("bob", "@bob@mock.local", True), ("work", "@carol@mock.local", False)]
    # logging in again as the same person refreshes that account, no duplicate
    cli("login", mastodon.base_url, "--token", "bob_token")
    assert len(json.loads(cli("accounts", "--json").stdout)) == 2
    res = cli("logout", "work")
    assert "logged out work" in res.stdout
    assert [r["name"] for r in json.loads(cli("accounts", "--json").stdout)] == ["bob"]
    res = cli("logout", "work", code=2)
    assert "no account named 'work'" in res.stderr


def test_login_oauth_code_flow(cli: Any, mastodon: Any, pln_home: Any) -> None:
    """No --token: pln registers itself once, prints the authorize URL and reads the code
    (mastodon_mock's /oauth/authorize issues ``mockcode_<user>`` codes for the oob flow)."""
    res = cli("login", mastodon.base_url, input="mockcode_bob\n")
    assert f"{mastodon.base_url}/oauth/authorize?" in res.stdout
    assert "response_type=code" in res.stdout and "scope=read+write" in res.stdout
    assert "logged in as @bob@mock.local" in res.stdout
    data = creds(pln_home)
    app = data["apps"][mastodon.base_url]
    assert app["client_id"] and app["client_secret"]
    token = data["accounts"]["bob"]["token"]
    assert token and token not in res.stdout + res.stderr
    # the app is registered once per instance
    cli("login", mastodon.base_url, "--name", "other", input="mockcode_carol\n")
    assert creds(pln_home)["apps"][mastodon.base_url] == app
    # and the token works for sync
    cli("source", "add", "home", "--account", "other")
    cli("sync", "--json")


def test_login_rejected_token_is_exit_2_with_hint(cli: Any, mastodon: Any, pln_home: Any) -> None:
    res = cli("login", mastodon.base_url, "--token", "not-a-token", code=2)
    host = mastodon.base_url.split("://")[1]
    assert res.stderr.strip() == (  # not "run `pln login …`": that was just run (issue 13)
        f"error: {host} rejected that token: check that it was copied whole (Preferences → "
        f"Development → your application), or run `pln login {mastodon.base_url}` without "
        "--token to authorize pln in a browser"
    )
    assert "not-a-token" not in res.stderr
    assert "Traceback" not in res.stderr
    assert not (pln_home / "credentials.json").exists() or not creds(pln_home)["accounts"]


def test_login_bad_code_is_clear(cli: Any, mastodon: Any) -> None:
    res = cli("login", mastodon.base_url, input="wrong-code\n", code=2)
    assert "did not accept that authorization code" in res.stderr
    assert "Traceback" not in res.stderr


def test_login_to_a_server_that_is_not_mastodon(cli: Any, feed_server: FeedServer) -> None:
    feed_server.route("/", body=b"<html>hello</html>", content_type="text/html")
    res = cli("login", feed_server.base_url, "--token", "x", code=2)
    assert "does not look like a Mastodon-compatible server" in res.stderr


def test_login_falls_back_to_instance_v1(cli: Any, mastodon: Any) -> None:
    mastodon.fault(path="/api/v2/instance", status=404)
    res = cli("login", mastodon.base_url, "--token", "alice_token")
    assert "logged in as @alice@mock.local" in res.stdout


def test_login_refuses_plain_http_to_a_remote_host(cli: Any) -> None:
    res = cli("login", "http://mastodon.example", "--token", "x", code=2)
    assert "use https://" in res.stderr


def test_help_does_not_import_mastodon_or_feedparser() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from companion.cli.app import app\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('mastodon', 'feedparser')]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
