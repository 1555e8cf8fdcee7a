"""`pln follow`, `pln unfollow` and `pln following` against a real Mastodon-API server
(mastodon_mock on loopback), checked on the server's side; servers that page without Link
headers, ignore max_id, or have no followed hashtags come from a loopback proxy in front of
it (tests/proxy.py)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.network_seed import handle, login, mock_server, source_id, sources
from tests.proxy import Proxy

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def srv() -> Any:
    with mock_server() as s:
        yield s


def follows(srv: Any, user: str, who: str) -> dict[str, Any]:
    """alice's relationship with ``who`` as the server has it."""
    api = srv.client(user)
    target = api.account_lookup(who)
    return dict(api.account_relationships(target["id"])[0])


def followed_tags(srv: Any, user: str = "alice") -> list[str]:
    return sorted(t["name"] for t in srv.client(user).followed_tags())


# ----- people --------------------------------------------------------------------------------


def test_follow_and_unfollow_a_person_on_the_server(cli: Any, srv: Any) -> None:
    login(cli, srv.base_url)
    res = cli("follow", handle("erin"))
    assert res.stdout.startswith(f"following {handle('erin')} (account alice on {srv.base_url})")
    # not a terminal: nothing added, and pln says how
    assert f"not added as a pln source; to sync it: pln source add {handle('erin')}" in res.stderr
    assert follows(srv, "alice", "erin")["following"] is True
    assert sources(cli) == []

    again = cli("follow", handle("erin"))
    assert again.stdout.startswith(f"already following {handle('erin')}")

    res = cli("unfollow", handle("erin"))
    assert res.stdout.startswith(f"unfollowed {handle('erin')}")
    assert follows(srv, "alice", "erin")["following"] is False
    res = cli("unfollow", handle("erin"))
    assert "not following" in res.stdout and "nothing changed" in res.stdout
    assert follows(srv, "alice", "erin")["following"] is False


def test_a_remote_account_is_resolved_through_your_own_instance(cli: Any, srv: Any) -> None:
    """@hal@remote.example is not on the server pln talks to: pln asks that instance (search
    with resolve, then the exact lookup), never remote.example itself."""
    with Proxy(srv.base_url) as proxy:
        login(cli, proxy.base_url)
        res = cli("follow", "@hal@remote.example")
        assert res.stdout.startswith("following @hal@remote.example")
        assert proxy.count(r"^/api/v2/search$", "GET") == 1
        assert any(r.query.get("resolve") == "1" for r in proxy.requests
                   if r.route == "/api/v2/search")
        assert proxy.count(r"^/api/v1/accounts/lookup$", "GET") == 1
    assert follows(srv, "alice", "hal@remote.example")["following"] is True


def test_an_account_that_approves_followers_gives_a_request(cli: Any, srv: Any) -> None:
    login(cli, srv.base_url)
    res = cli("follow", handle("carol"))
    assert res.stdout.startswith(f"follow requested: {handle('carol')} approves followers by hand")
    rel = follows(srv, "alice", "carol")
    assert rel["requested"] is True and rel["following"] is False
    cli("unfollow", handle("carol"))  # withdraws the request
    assert follows(srv, "alice", "carol")["requested"] is False


def test_add_source_flag_and_an_existing_source(cli: Any, srv: Any) -> None:
    login(cli, srv.base_url)
    res = cli("follow", handle("dan"), "--add-source", "--topic", "math")
    sid = source_id(cli, handle("dan"))
    assert f"added source {sid} {handle('dan')}" in res.stdout
    assert [s["topics"] for s in sources(cli)] == [["math"]]
    res = cli("follow", handle("dan"), "--add-source")  # already both: nothing added twice
    assert f"pln syncs it already: source {sid}" in res.stdout
    assert len(sources(cli)) == 1
    cli("follow", handle("erin"), "--no-add-source")
    assert len(sources(cli)) == 1

    # unfollowing offers to remove it; without a terminal it is kept, with a hint
    res = cli("unfollow", handle("dan"))
    assert f"pln still syncs it as source {sid}; to stop: pln source rm {sid}" in res.stderr
    assert len(sources(cli)) == 1
    cli("follow", handle("dan"))
    res = cli("unfollow", handle("dan"), "--remove-source")
    assert f"removed source {sid}" in res.stdout
    assert sources(cli) == []
    assert follows(srv, "alice", "dan")["following"] is False


def test_home_already_brings_a_followed_person(cli: Any, srv: Any) -> None:
    login(cli, srv.base_url)
    cli("source", "add", "home")
    home = source_id(cli, "home")
    res = cli("follow", handle("gina"))
    assert f"{handle('gina')} reaches pln through home ({home}) already" in res.stderr
    assert len(sources(cli)) == 1


def test_prompt_on_a_terminal_adds_the_source(srv: Any, pln_home: Path) -> None:
    """On a terminal pln asks; answering y adds the source."""
    env = {**os.environ, "PLN_HOME": str(pln_home), "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "companion", "login", srv.base_url, "--token",
                    "alice_token"], env=env, check=True, capture_output=True, cwd=REPO)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "companion", "follow", handle("ivy")],
                            stdin=slave, stdout=subprocess.PIPE, stderr=slave, env=env, cwd=REPO)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30
    while b"[Y/n]" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            seen += os.read(master, 1024)
    assert b"Add @ivy@mock.local as a pln source of its own? [Y/n]" in seen
    os.write(master, b"y\n")
    out, _ = proc.communicate(timeout=30)
    os.close(master)
    assert proc.returncode == 0
    assert b"added source" in out
    listed = subprocess.run([sys.executable, "-m", "companion", "source", "list", "--json"],
                            env=env, capture_output=True, check=True, cwd=REPO).stdout
    assert [s["spec"] for s in json.loads(listed)] == [handle("ivy")]


# ----- hashtags ------------------------------------------------------------------------------


def test_follow_and_unfollow_a_hashtag(cli: Any, srv: Any) -> None:
    login(cli, srv.base_url)
    res = cli("follow", "#MathChat", "--add-source", "--topic", "math")
    assert res.stdout.startswith("following #MathChat")
    assert followed_tags(srv) == ["mathchat"]
    [src] = sources(cli)
    assert (src["spec"], src["account"], src["topics"]) == ("#MathChat", "alice", ["math"])
    res = cli("follow", "#mathchat")
    assert res.stdout.startswith("already following #mathchat")
    assert f"pln syncs it already: source {src['id']}" in res.stdout

    res = cli("unfollow", "#mathchat", "--remove-source")
    assert res.stdout.startswith("unfollowed #mathchat")
    assert f"removed source {src['id']}" in res.stdout
    assert followed_tags(srv) == [] and sources(cli) == []
    res = cli("unfollow", "#mathchat")
    assert "not following #mathchat" in res.stdout


def test_followed_tags_source_brings_a_followed_hashtag(cli: Any, srv: Any) -> None:
    login(cli, srv.base_url)
    cli("source", "add", "followed-tags")
    ft = source_id(cli, "followed-tags")
    res = cli("follow", "#edtech")
    assert f"#edtech reaches pln through followed-tags ({ft}) already" in res.stderr


def test_a_server_without_followed_hashtags(cli: Any, srv: Any) -> None:
    """Following a hashtag needs the server's followed-hashtags API: without it, exit 2 and
    nothing changed; `pln following` still lists people, with a warning."""
    missing = (r"^/api/v1/followed_tags", r"^/api/v1/tags/")
    with Proxy(srv.base_url) as proxy:
        proxy.lack(*missing)
        login(cli, proxy.base_url)
        res = cli("follow", "#edtech", "--add-source", code=2)
        assert res.stderr.strip() == (
            f"error: 127.0.0.1:{proxy.base_url.rsplit(':', 1)[1]} does not support following "
            "hashtags (no followed hashtags API); nothing changed. pln can still sync #edtech "
            "from it: `pln source add '#edtech'`")
        assert sources(cli) == []
        cli("unfollow", "#edtech", code=2)
        res = cli("following")
        assert "has no followed hashtags (its API answered 404): only people are listed" in res.stderr
        assert handle("bob") in res.stdout
        got = json.loads(cli("following", "--json").stdout)
        assert got["hashtags"] is None
        assert [p["handle"] for p in got["people"]] == [handle("bob")]
    assert followed_tags(srv) == []


# ----- following ----------------------------------------------------------------------------


def test_following_marks_what_pln_does_not_sync(cli: Any, srv: Any) -> None:
    api = srv.client("alice")
    api.account_follow(api.account_lookup("dan")["id"])
    api.tag_follow("edtech")
    api.tag_follow("pln")
    login(cli, srv.base_url)
    cli("source", "add", handle("bob"))
    cli("source", "add", "#edtech")
    bob, edtech = source_id(cli, handle("bob")), source_id(cli, "#edtech")
    got = json.loads(cli("following", "--json").stdout)
    assert got == {
        "account": "alice", "handle": handle("alice"), "instance": srv.base_url,
        "people": [
            {"handle": handle("bob"), "name": "Bob", "url": f"https://{'mock.local'}/@bob",
             "synced": True, "synced_by": [bob]},
            {"handle": handle("dan"), "name": "Dan", "url": "https://mock.local/@dan",
             "synced": False, "synced_by": []},
        ],
        "hashtags": [{"tag": "edtech", "synced": True, "synced_by": [edtech]},
                     {"tag": "pln", "synced": False, "synced_by": []}],
        "complete": True, "notes": [],
    }
    text = cli("following").stdout
    assert f"alice ({handle('alice')} on {srv.base_url}) follows 2 people and 2 hashtags" in text
    assert f"not synced: pln source add {handle('dan')}" in text
    assert "not synced: pln source add '#pln'" in text
    cli("source", "add", "home")
    home = source_id(cli, "home")
    got = json.loads(cli("following", "--json").stdout)
    assert [p["synced_by"] for p in got["people"]] == [[bob, home], [home]]
    assert [t["synced_by"] for t in got["hashtags"]] == [[edtech, home], [home]]


def test_following_pages_through_many_and_without_link_headers(cli: Any) -> None:
    with mock_server(extra_follows=100) as srv:
        login(cli, srv.base_url)
        got = json.loads(cli("following", "--json").stdout)
        assert len(got["people"]) == 101 and got["complete"] is True
        assert len({p["handle"] for p in got["people"]}) == 101
        with Proxy(srv.base_url) as proxy:  # pages by the last id
            proxy.drop_response_header("Link")
            cli("login", proxy.base_url, "--token", "alice_token", "--name", "proxied")
            got = json.loads(cli("following", "--json", "--account", "proxied").stdout)
            assert len(got["people"]) == 101 and got["complete"] is True
            # the server gives 40 a page, whatever pln asks: 40, 40, 21, then an empty page
            assert proxy.count(r"/following$", "GET") == 4


def test_following_stops_on_a_server_that_ignores_max_id(cli: Any) -> None:
    """The second page repeats the first: pln stops (no endless loop) and says the list may
    be incomplete (fewer than the following_count the server reports)."""
    with mock_server(extra_follows=100) as srv, \
            Proxy(srv.base_url) as proxy:
        proxy.drop_query_param("max_id")
        login(cli, proxy.base_url)
        res = cli("following", "--json")
        got = json.loads(res.stdout)
        assert len(got["people"]) == 40 and got["complete"] is False
        note = (f"{proxy.base_url} listed fewer accounts than it says you follow, or stopped "
                "paging: some may be missing")
        assert got["notes"] == [note]
        assert proxy.count(r"/following$", "GET") == 2


# ----- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (["follow", "https://blog.example/"], "is a web address: follow a feed with `pln source add"),
    (["follow", "bob"], "give a person as @user@host or a hashtag as '#tag'"),
    (["follow", "@bob"], "is not a fediverse account: expected @user@host"),
    (["follow", "#"], "is not a hashtag"),
    (["follow", "@nobody@mock.local"], "no account @nobody@mock.local found"),
    (["follow", "@alice@mock.local"], "is one of your own accounts"),
    (["follow", "#edtech@other.example"], "followed hashtags live on your own instance"),
    (["unfollow", "@nobody@mock.local"], "no account @nobody@mock.local found"),
    (["follow", "@bob@mock.local", "--account", "work"], "no account named 'work'"),
])
def test_bad_input_is_refused_with_exit_2(cli: Any, srv: Any, args: list[str], message: str) -> None:
    login(cli, srv.base_url)
    res = cli(*args, code=2)
    assert message in res.stderr and res.stderr.count("\n") == 1, res.stderr
    assert sources(cli) == []
    assert follows(srv, "alice", "bob")["following"] is True  # nothing else changed


def test_no_account_logged_in(cli: Any) -> None:
    res = cli("follow", "@bob@mock.local", code=2)
    assert "no Mastodon account is logged in — run `pln login" in res.stderr
    res = cli("following", code=2)
    assert "no Mastodon account is logged in" in res.stderr


def test_a_server_that_does_not_tell_relationships(cli: Any, srv: Any) -> None:
    """Without /accounts/relationships pln cannot know beforehand: it asks the server to
    follow or unfollow all the same (both are idempotent there)."""
    with Proxy(srv.base_url) as proxy:
        proxy.lack(r"^/api/v1/accounts/relationships")
        login(cli, proxy.base_url)
        res = cli("unfollow", handle("bob"))
        assert res.stdout.startswith(f"unfollowed {handle('bob')}")
        assert follows(srv, "alice", "bob")["following"] is False
        res = cli("follow", handle("bob"))
        assert res.stdout.startswith(f"following {handle('bob')}")
        assert follows(srv, "alice", "bob")["following"] is True
