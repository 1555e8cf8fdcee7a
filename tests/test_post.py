"""`pln post` against a real Mastodon-API server (mastodon_mock), inspecting the server."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from companion.credentials import Account
from companion.decide import merge
from companion.models import Author, ItemData
from companion.reflections.thread import strip_suffix, weighted_length
from companion.service import Companion
from companion.specs import parse_spec
from tests.proxy import Proxy

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)

# ~1,600 characters in paragraphs, with URLs, mentions and hashtags. mastodon_mock counts
# raw characters (not URLs as 23), so the URLs here are shorter than 23 to fit both ways.
PARAS = [
    "This week I tried retrieval practice with my year 9 class, after reading "
    "https://ex.org/rp1 and talking it through with @bob@mock.local and @carol. "
    "The idea is simple: instead of re-reading notes, students try to recall what they "
    "learned, and only then check. It feels harder, which is the point. My students "
    "grumbled for a week and then started asking for the quizzes. #edtech",
    "What surprised me most was how much the quiet students gained. When everybody writes "
    "an answer first, nobody can hide behind the fast talkers. The low-stakes quizzes took "
    "five minutes at the start of each lesson, and the marking was mostly done by the "
    "students themselves, which gave me back time for feedback. Two of them now write "
    "questions for the class. #retrievalpractice",
    "Not everything worked. Spacing the quizzes across weeks needs a plan, and my first "
    "attempt was a mess of paper slips. A shared spreadsheet of questions per topic "
    "(https://ex.org/sheet) fixed that. I also learned to mix old and new questions, so "
    "that every quiz revisits something from a month ago. The forgetting curve is real, "
    "and it is humbling to watch. #teaching #assessment",
    "Next steps: I want to measure this properly, not just trust my impressions. "
    "@bob@mock.local suggested comparing unit test scores with last year's cohort, "
    "which is imperfect but better than nothing. If you have tried something similar, "
    "I would love to hear how you kept it going past the first month! Reading list at "
    "https://ex.org/list. Thanks to everyone in #edutooters who answered my questions "
    "last week; this network is the best staff room I have.",
]
LONG = "\n\n".join(PARAS)


def login(srv: Any, user: str, name: str | None = None) -> str:
    """Store an account for a seeded mastodon_mock user, as `pln login` would."""
    c = Companion()
    c.home.ensure()
    name = name or user
    c.credentials.put_account(
        Account(name=name, instance=srv.base_url, token=f"{user}_token",
                handle=f"@{user}@mock.local")
    )
    return name


def statuses(srv: Any, user: str) -> list[Any]:
    """The user's statuses on the server, oldest first."""
    m = srv.client(user)
    me = m.me()
    return list(reversed(m.account_statuses(me.id, limit=40)))


def source_text(srv: Any, user: str, status_id: str) -> str:
    return str(srv.client(user).status_source(status_id).text)


def put_items(*items: tuple[ItemData, str]) -> list[str]:
    c = Companion()
    with c.writing("test"):
        recs = [merge(None, data, source, NOW) for data, source in items]
        c.store.put_many([r for r in recs if r is not None])
    return [r[0]["id"] for r in recs if r is not None]


def post_json(cli: Any, *args: str, code: int = 0, input: str | None = None) -> dict[str, Any]:
    result = cli("post", *args, "--json", code=code, input=input)
    return json.loads(result.stdout)


def drafts(cli: Any) -> list[dict[str, Any]]:
    return json.loads(cli("drafts", "--json").stdout)


# ----- threads ------------------------------------------------------------------------------


def test_long_reflection_becomes_a_chained_thread(cli: Any, mastodon: Any) -> None:
    login(mastodon, "alice")
    assert 1500 <= len(LONG) <= 1700
    refl = post_json(cli, LONG, "--cw", "long read", "--visibility", "unlisted")
    assert refl["state"] == "sent"
    parts = refl["accounts"][0]["parts"]
    assert len(parts) == 4
    assert [p["state"] for p in parts] == ["sent"] * 4

    on_server = statuses(mastodon, "alice")
    assert [s.id for s in on_server] == [p["status_id"] for p in parts]
    previous = None
    for n, (s, p) in enumerate(zip(on_server, parts, strict=True), 1):
        assert s.in_reply_to_id == previous  # each part replies to the one before
        previous = s.id
        assert s.spoiler_text == "long read"  # CW and visibility on every part
        assert s.visibility == "unlisted"
        text = source_text(mastodon, "alice", s.id)
        assert text == p["text"]
        assert text.endswith(f" {n}/4")
        assert weighted_length(text) <= 500
        assert s.url == p["url"]
    # nothing lost, nothing cut: the words in order, every URL/mention/hashtag whole
    bodies = [strip_suffix(p["text"]) for p in parts]
    assert " ".join(bodies).split() == LONG.split()
    for atom in ("https://ex.org/sheet", "@bob@mock.local", "#retrievalpractice", "#edutooters"):
        assert sum(atom in b for b in bodies) == LONG.count(atom)


def test_dry_run_shows_parts_and_sends_and_saves_nothing(cli: Any, mastodon: Any) -> None:
    login(mastodon, "alice")
    result = cli("post", LONG, "--dry-run")
    assert "alice @alice@mock.local — limit 500 characters, 4 parts, public" in result.stdout
    for n in range(1, 5):
        assert f"── part {n}/4 · " in result.stdout
    assert "/500 characters ──" in result.stdout
    assert "dry run: nothing was sent or saved" in result.stdout
    data = json.loads(cli("post", LONG, "--dry-run", "--json").stdout)
    assert [p["n"] for p in data["accounts"][0]["parts"]] == [1, 2, 3, 4]
    assert all(p["length"] <= 500 for p in data["accounts"][0]["parts"])
    assert statuses(mastodon, "alice") == []
    assert not Companion().home.journal_file.exists()


# ----- failures and retries ----------------------------------------------------------------


FAULTS = [
    pytest.param({"type": "status", "status": 500}, id="500"),
    pytest.param({"type": "status", "status": 503}, id="503"),
    pytest.param({"type": "ratelimit"}, id="429"),
    pytest.param({"type": "status", "status": 422, "body": {"error": "Validation failed"}}, id="422"),
]


@pytest.mark.parametrize("fault", FAULTS)
def test_part_2_of_4_fails_then_retry_completes_without_doubles(
    cli: Any, mastodon: Any, fault: dict[str, Any]
) -> None:
    login(mastodon, "alice")
    # the first POST goes through untouched, the second fails once
    mastodon.fault(path="/api/v1/statuses", methods=["POST"], type="latency", count=1)
    mastodon.fault(path="/api/v1/statuses", methods=["POST"], count=1, **fault)

    result = cli("post", LONG, code=1)
    assert "1 of 4 parts sent" in result.stdout
    assert "✗ 2/4" in result.stdout
    assert "not fully posted (1 of 4 parts sent;" in result.stderr
    assert "pln post --retry" in result.stderr

    on_server = statuses(mastodon, "alice")
    assert len(on_server) == 1  # part 1, and only part 1
    [refl] = drafts(cli)
    parts = refl["accounts"][0]["parts"]
    assert [p["state"] for p in parts] == ["sent", "failed", "pending", "pending"]
    assert parts[0]["status_id"] == on_server[0].id
    assert refl["state"] == "failed"

    result = cli("post", "--retry", refl["id"][:5])
    assert "posted to alice @alice@mock.local: 4 parts" in result.stdout
    on_server = statuses(mastodon, "alice")
    assert len(on_server) == 4
    assert on_server[0].id == parts[0]["status_id"]
    assert [s.in_reply_to_id for s in on_server] == [None] + [s.id for s in on_server[:3]]
    assert drafts(cli) == []
    # a second retry has nothing to do
    result = cli("post", "--retry", refl["id"], code=2)
    assert "already posted" in result.stderr


def test_retry_after_a_lost_response_does_not_double(cli: Any, mastodon: Any) -> None:
    with Proxy(mastodon.base_url) as proxy:
        c = Companion()
        c.home.ensure()
        c.credentials.put_account(Account(name="alice", instance=proxy.base_url,
                                          token="alice_token", handle="@alice@mock.local"))
        proxy.plan[2] = "lose"  # part 2's response is lost
        result = cli("post", LONG, code=1)
        assert [e for e in proxy.events if e[0] == "lost"] == [("lost", 2)]
        assert "may or may not have arrived" in result.stderr
        assert len(statuses(mastodon, "alice")) == 2  # the server did make part 2
        [refl] = drafts(cli)
        parts = refl["accounts"][0]["parts"]
        assert [p["state"] for p in parts] == ["sent", "failed", "pending", "pending"]

        cli("post", "--retry", refl["id"])
        on_server = statuses(mastodon, "alice")
        assert len(on_server) == 4  # part 2 was not doubled: same Idempotency-Key
        [done] = json.loads(cli("journal", "--json").stdout)
        assert [p["status_id"] for p in done["accounts"][0]["parts"]] == [s.id for s in on_server]
        assert [s.in_reply_to_id for s in on_server] == [None] + [s.id for s in on_server[:3]]


def test_timeout_is_reported_and_retried_once(cli: Any, mastodon: Any) -> None:
    login(mastodon, "alice")
    Companion().home.config_file.write_text("[settings]\ntimeout = 1\n")
    # the server holds the request past pln's timeout
    mastodon.fault(path="/api/v1/statuses", methods=["POST"], type="latency", delay_ms=1500,
                   count=1)
    result = cli("post", "A short thought about slow servers. #edtech", code=1)
    assert "timed out" in result.stderr
    [refl] = drafts(cli)
    assert refl["accounts"][0]["parts"][0]["state"] == "failed"
    import time

    time.sleep(0.6)  # the server is still making the status for 0.5 s: a retry comes later
    cli("post", "--retry", refl["id"])
    assert len(statuses(mastodon, "alice")) == 1
    [done] = json.loads(cli("journal", "--json").stdout)
    assert done["state"] == "sent"


def test_network_failure_keeps_the_reflection_in_the_journal(cli: Any, mastodon: Any) -> None:
    c = Companion()
    c.home.ensure()
    c.credentials.put_account(Account(name="gone", instance="http://127.0.0.1:9",
                                      token="x", handle="@x@nowhere"))
    result = cli("post", "Saved even though the server is down", code=1)
    assert "unreachable" in result.stderr
    [refl] = drafts(cli)
    assert refl["body"] == "Saved even though the server is down"
    assert refl["accounts"][0]["parts"] == []  # never reached: split when it is retried
    # the account is fixed (moved to a live server); the retry posts it
    c = Companion()
    c.credentials.put_account(Account(name="gone", instance=mastodon.base_url,
                                      token="alice_token", handle="@alice@mock.local"))
    cli("post", "--retry", refl["id"])
    assert [source_text(mastodon, "alice", s.id) for s in statuses(mastodon, "alice")] == [
        "Saved even though the server is down"
    ]


# ----- cross-posting -------------------------------------------------------------------------


def test_cross_post_to_two_servers_and_one_failing_does_not_undo_the_other(
    cli: Any, mastodon: Any
) -> None:
    from mastodon_mock.testing.server import MockServer

    with MockServer() as other:
        login(mastodon, "alice", "school")
        login(other, "bob", "personal")
        refl = post_json(cli, "Cross-posted thought", "--account", "school",
                         "--account", "personal")
        assert [e["state"] for e in refl["accounts"]] == ["sent", "sent"]
        assert len(statuses(mastodon, "alice")) == 1
        assert len(statuses(other, "bob")) == 1

        other.fault(path="/api/v1/statuses", methods=["POST"], status=502, count=1)
        refl = post_json(cli, "Second thought", "-A", "school", "-A", "personal", code=1)
        assert [e["state"] for e in refl["accounts"]] == ["sent", "failed"]
        assert "502" in refl["accounts"][1]["error"]
        assert len(statuses(mastodon, "alice")) == 2  # not undone
        assert len(statuses(other, "bob")) == 1

        cli("post", "--retry", refl["id"])
        assert len(statuses(mastodon, "alice")) == 2  # not sent twice
        texts = [source_text(other, "bob", s.id) for s in statuses(other, "bob")]
        assert texts == ["Cross-posted thought", "Second thought"]


def test_unknown_account_is_a_usage_error_and_saves_nothing(cli: Any, mastodon: Any) -> None:
    login(mastodon, "alice")
    result = cli("post", "hello", "--account", "nobody", code=2)
    assert "no account named 'nobody'" in result.stderr
    assert not Companion().home.journal_file.exists()


def test_no_account_says_how_to_log_in(cli: Any) -> None:
    result = cli("post", "hello", code=2)
    assert "run `pln login" in result.stderr


# ----- citing, replying, options --------------------------------------------------------------


def _feed_item() -> tuple[ItemData, str]:
    c = Companion()
    c.home.ensure()
    spec = c.config.add_source(parse_spec("https://blog.example/feed.xml", name="Example Blog"))
    data = ItemData(
        key="https://blog.example/2026/retrieval",
        kind="feed",
        url="https://blog.example/2026/retrieval",
        link="https://blog.example/2026/retrieval",
        title="Retrieval practice, \x1b[31mexplained",
        author=Author(name="Jane Teacher"),
        text="Why testing yourself works.",
        published=NOW,
    )
    return data, spec.id


def _status_item(srv: Any, user: str, text: str) -> tuple[ItemData, str, Any]:
    s = srv.client(user).status_post(text)
    data = ItemData(
        key=s.uri,
        kind="status",
        url=s.url,
        author=Author(name=user.title(), handle=f"@{user}@mock.local", url=s.account.url),
        text=text,
        published=NOW,
    )
    return data, "srchome", s


def test_on_feed_item_adds_link_and_credits_the_site(cli: Any, mastodon: Any) -> None:
    login(mastodon, "alice")
    [item] = put_items(_feed_item())
    refl = post_json(cli, "Testing beats re-reading.", "--on", item[:5], "--tag", "edtech")
    text = source_text(mastodon, "alice", refl["accounts"][0]["parts"][0]["status_id"])
    assert text == (
        "Testing beats re-reading.\n\n"
        "https://blog.example/2026/retrieval via Example Blog\n\n"
        "#edtech"
    )
    [c] = refl["cites"]
    assert c["item"] == item and c["url"] == "https://blog.example/2026/retrieval"
    assert c["credit"] == "Example Blog"
    listing = cli("journal").stdout
    assert f"({item})" in listing and "Retrieval practice, explained" in listing
    assert "\x1b" not in listing  # remote titles are cleaned before they reach the terminal


def test_on_status_credits_the_person(cli: Any, mastodon: Any) -> None:
    login(mastodon, "alice")
    data, source, s = _status_item(mastodon, "bob", "Spacing matters more than you think")
    [item] = put_items((data, source))
    refl = post_json(cli, "So true:", "--on", item)
    text = source_text(mastodon, "alice", refl["accounts"][0]["parts"][0]["status_id"])
    assert text == f"So true:\n\n{s.url} via @bob@mock.local"
    assert refl["cites"][0]["author"]["handle"] == "@bob@mock.local"


def test_reply_to_resolves_the_status_on_the_posting_instance(cli: Any, mastodon: Any) -> None:
    login(mastodon, "alice")
    data, source, s = _status_item(mastodon, "bob", "How do you run retrieval quizzes?")
    feed, feed_source = _feed_item()
    status_item, feed_item = put_items((data, source), (feed, feed_source))
    refl = post_json(cli, "Five minutes at the start of each lesson.", "--reply-to", status_item)
    [mine] = statuses(mastodon, "alice")
    assert mine.in_reply_to_id == s.id
    assert refl["reply_to"]["uri"] == s.uri
    assert refl["accounts"][0]["in_reply_to_id"] == s.id
    result = cli("post", "x", "--reply-to", feed_item, code=2)
    assert "not a status" in result.stderr
    result = cli("post", "x", "--reply-to", "zzzzzz", code=2)
    assert "no item with id 'zzzzzz'" in result.stderr


def test_reply_to_a_status_the_instance_cannot_find_fails_and_is_kept(
    cli: Any, mastodon: Any
) -> None:
    login(mastodon, "alice")
    data = ItemData(key="https://elsewhere.example/users/x/statuses/1", kind="status",
                    url="https://elsewhere.example/@x/1", author=Author(handle="@x@elsewhere.example"),
                    published=NOW)
    [item] = put_items((data, "srchome"))
    result = cli("post", "reply", "--reply-to", item, code=1)
    assert "cannot find the status to reply to" in result.stderr
    assert statuses(mastodon, "alice") == []
    assert len(drafts(cli)) == 1


def test_tags_are_added_once(cli: Any, mastodon: Any) -> None:
    login(mastodon, "alice")
    refl = post_json(cli, "Loving #EdTech today", "--tag", "edtech", "--tag", "#new",
                     "--tag", "NEW", "--visibility", "private")
    assert refl["text"] == "Loving #EdTech today\n\n#new"
    assert refl["tags"] == ["new"]
    [s] = statuses(mastodon, "alice")
    assert s.visibility == "private"
    result = cli("post", "x", "--tag", "not a tag", code=2)
    assert "bad --tag" in result.stderr
    result = cli("post", "x", "--visibility", "everyone", code=2)
    assert "bad --visibility" in result.stderr


def test_stdin(cli: Any, mastodon: Any) -> None:
    login(mastodon, "alice")
    post_json(cli, "-", input="Written on stdin.\n\nSecond paragraph.\n")
    [s] = statuses(mastodon, "alice")
    assert source_text(mastodon, "alice", s.id) == "Written on stdin.\n\nSecond paragraph."


def _editor(tmp_path: Path, text: str) -> str:
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "template = p.read_text()\n"
        f"pathlib.Path({str(tmp_path / 'template.seen')!r}).write_text(template)\n"
        f"p.write_text({text!r} + template)\n"
    )
    return f"{sys.executable} {script}"


def test_editor_with_template(cli: Any, mastodon: Any, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    login(mastodon, "alice")
    [item] = put_items(_feed_item())
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "Written in my editor. #edtech"))
    monkeypatch.delenv("VISUAL", raising=False)
    refl = post_json(cli, "--on", item)
    [s] = statuses(mastodon, "alice")
    assert source_text(mastodon, "alice", s.id) == (
        "Written in my editor. #edtech\n\nhttps://blog.example/2026/retrieval via Example Blog"
    )
    assert refl["body"] == "Written in my editor. #edtech"
    seen = (tmp_path / "template.seen").read_text()
    assert "# Citing: Retrieval practice, explained <https://blog.example/2026/retrieval>" in seen
    assert "# Posting as: alice" in seen


def test_empty_editor_cancels(cli: Any, mastodon: Any, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    login(mastodon, "alice")
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "  \n"))
    monkeypatch.delenv("VISUAL", raising=False)
    result = cli("post", code=2)
    assert "nothing to post" in result.stderr
    assert statuses(mastodon, "alice") == []
    assert not Companion().home.journal_file.exists()


def test_journal_is_written_before_sending(cli: Any, mastodon: Any) -> None:
    """Even a post refused by the server (422) is in the journal with its text."""
    login(mastodon, "alice")
    mastodon.fault(path="/api/v1/statuses", methods=["POST"], status=422, count=5)
    cli("post", "Kept safe", code=1)
    raw = json.loads(Companion().home.journal_file.read_text())
    [refl] = raw["reflections"].values()
    assert refl["body"] == "Kept safe"
    assert refl["accounts"][0]["parts"][0]["idempotency_key"].startswith(f"pln-{refl['id']}-1-")
    assert "alice_token" not in Companion().home.journal_file.read_text()


def test_rejected_token_says_how_to_fix_and_never_shows_it(cli: Any, mastodon: Any) -> None:
    c = Companion()
    c.home.ensure()
    c.credentials.put_account(Account(name="alice", instance=mastodon.base_url,
                                      token="s3cret-wrong-token", handle="@alice@mock.local"))
    result = cli("post", "hello", code=1)
    assert f"run `pln login {mastodon.base_url}`" in result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    assert "s3cret" not in c.home.journal_file.read_text()


def test_retry_takes_only_an_id_and_can_be_previewed(cli: Any, mastodon: Any) -> None:
    login(mastodon, "alice")
    mastodon.fault(path="/api/v1/statuses", methods=["POST"], type="latency", count=1)
    mastodon.fault(path="/api/v1/statuses", methods=["POST"], status=500, count=1)
    cli("post", LONG, code=1)
    [refl] = drafts(cli)
    result = cli("post", "--retry", refl["id"], "--tag", "x", code=2)
    assert "--retry takes only the reflection id" in result.stderr
    preview = cli("post", "--retry", refl["id"], "--dry-run").stdout
    assert "── part 2/4 · " in preview
    assert len(statuses(mastodon, "alice")) == 1  # the preview sent nothing
    assert "no reflection with id 'zzzzzz'" in cli("post", "--retry", "zzzzzz", code=2).stderr


def test_empty_editor_cancels_even_with_on(cli: Any, mastodon: Any, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    login(mastodon, "alice")
    [item] = put_items(_feed_item())
    monkeypatch.setenv("EDITOR", _editor(tmp_path, ""))
    monkeypatch.delenv("VISUAL", raising=False)
    assert "editor was left empty" in cli("post", "--on", item, code=2).stderr
    assert statuses(mastodon, "alice") == []


def test_retry_long_after_a_lost_response_finds_the_status_instead_of_resending(
    mastodon: Any,
) -> None:
    """Instances forget idempotency keys after an hour: then pln looks before it resends."""
    from datetime import timedelta

    with Proxy(mastodon.base_url) as proxy:
        c = Companion(clock=lambda: NOW)
        c.home.ensure()
        c.credentials.put_account(Account(name="alice", instance=proxy.base_url,
                                          token="alice_token", handle="@alice@mock.local"))
        proxy.plan[3] = "lose"  # part 3's response is lost
        refl = c.post_reflection(LONG)
        assert refl["state"] == "failed"
        assert refl["accounts"][0]["parts"][2]["ambiguous"] is True
        assert len(statuses(mastodon, "alice")) == 3

        later = Companion(clock=lambda: NOW + timedelta(hours=2))
        refl = later.retry_reflection(refl["id"])
        assert refl["state"] == "sent"
        parts = refl["accounts"][0]["parts"]
        assert parts[2]["note"] == "found on the instance after a lost response"
        assert proxy.posts == 4  # parts 1-3 once each, then only part 4
        on_server = statuses(mastodon, "alice")
        assert [s.id for s in on_server] == [p["status_id"] for p in parts]
        assert [s.in_reply_to_id for s in on_server] == [None] + [s.id for s in on_server[:3]]
