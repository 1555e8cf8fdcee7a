"""Newsletters from a real Maildir and a real mbox, through the CLI: add, sync, inbox,
incremental sync, filters, the mailbox left untouched, and stories joined with a feed."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from companion.config import Config
from tests import newsletters as nl

NOW = datetime.now(UTC).replace(microsecond=0)


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under ``root`` (relative path -> hash of its bytes): what "unchanged" means."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def inbox(cli) -> list[dict]:  # type: ignore[no-untyped-def]
    return json.loads(cli("inbox", "--all", "--json").stdout)


def sync(cli, code: int = 0) -> list[dict]:  # type: ignore[no-untyped-def]
    return json.loads(cli("sync", "--json", code=code).stdout)


def test_maildir_first_and_incremental_sync_never_touch_the_mailbox(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    box = tmp_path / "Maildir"
    nl.make_maildir(box, nl.week(NOW), seen=1)
    before = tree_digest(box)
    r = cli("source", "add", f"maildir:{box}", "--name", "Newsletters", "-t", "reading")
    assert r.stdout.startswith("added ")
    [res] = sync(cli)
    assert (res["status"], res["new"]) == ("ok", 4)
    items = {i["title"]: i for i in inbox(cli)}
    assert set(items) == {"Exit tickets, week 1 ✏️", "Évaluer autrement – la lettre du 30 novembre",
                          "Lunch duty swap?", "One thing for Monday"}
    ex = items["Exit tickets, week 1 ✏️"]
    assert ex["author"]["name"] == "Teaching Lab — Ana Ruiz"
    assert ex["url"] == "https://teachinglab.substack.com/p/exit-tickets-week-1"
    assert ex["link"] == "https://www.edutopia.org/article/exit-tickets-that-work"
    assert ex["published"] == (NOW - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert tree_digest(box) == before  # nothing moved, flagged or rewritten

    # a second sync with nothing new reads nothing again
    [res] = sync(cli)
    assert (res["status"], res["new"]) == ("not_modified", 0)
    # new mail, and a client moving a message from new/ to cur/: only the new one counts
    md = nl.make_maildir(box, [])
    md.add(nl.substack(NOW, n=2))
    key = next(k for k in md.keys() if md.get_message(k).get_subdir() == "new")  # noqa: SIM118 - iterating a Maildir gives messages
    moved = md.get_message(key)
    moved.set_subdir("cur")
    moved.add_flag("S")
    md[key] = moved
    [res] = sync(cli)
    assert (res["status"], res["new"]) == ("ok", 1)
    assert len(inbox(cli)) == 5


def test_maildir_copies_of_one_message_are_one_item(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    box = tmp_path / "Maildir"
    nl.make_maildir(box, [nl.substack(NOW), nl.substack(NOW)])
    cli("source", "add", f"maildir:{box}")
    [res] = sync(cli)
    assert res["new"] == 1
    assert len(inbox(cli)) == 1


def test_mark_seen_flags_what_was_read_in_a_maildir(cli, pln_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    box = tmp_path / "Maildir"
    nl.make_maildir(box, nl.week(NOW))
    cli("source", "add", f"maildir:{box}", "--from", "@substack.com")
    cfg = pln_home / "config.toml"
    cfg.write_text(cfg.read_text().replace('id = "', 'mark_seen = true\nid = "'))
    assert Config.load(cfg).sources[0].mark_seen
    [res] = sync(cli)
    assert res["new"] == 1
    assert len(os.listdir(box / "new")) == 3  # the others are not this source's to flag
    [flagged] = os.listdir(box / "cur")
    assert flagged.endswith(":2,S")


def test_filters_by_sender_and_list_id(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    box = tmp_path / "mail.mbox"
    nl.make_mbox(box, nl.week(NOW))
    cli("source", "add", f"mbox:{box}", "--name", "Substack", "--from", "Teaching Lab <TeachingLab@substack.com>")
    cli("source", "add", f"mbox:{box}", "--name", "Lists", "--list-id", "<lettre.cafepedagogique.net>",
        "--list-id", "sams-science-notes.buttondown.email")
    listed = json.loads(cli("source", "list", "--json").stdout)
    assert [s["name"] for s in listed] == ["Substack", "Lists"]
    results = sync(cli)
    assert [r["new"] for r in results] == [1, 2]
    titles = sorted(i["title"] for i in inbox(cli))
    assert titles == ["Exit tickets, week 1 ✏️", "One thing for Monday",
                      "Évaluer autrement – la lettre du 30 novembre"]
    assert "Lunch duty swap?" not in titles
    text = Path(tmp_path / "plnhome" / "config.toml").read_text()
    assert 'from = ["teachinglab@substack.com"]' in text
    assert 'list_id = ["lettre.cafepedagogique.net", "sams-science-notes.buttondown.email"]' in text


def test_mbox_incremental_by_message_id_and_never_written(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    box = tmp_path / "newsletters.mbox"
    nl.make_mbox(box, nl.week(NOW))
    cli("source", "add", f"mbox:{box}")
    before = box.read_bytes()
    [res] = sync(cli)
    assert res["new"] == 4
    assert box.read_bytes() == before
    [res] = sync(cli)
    assert res["status"] == "not_modified"
    # the mail program appends one message and deletes another: only the new one is new
    import mailbox

    mb = mailbox.mbox(str(box))
    mb.lock()
    mb.add(nl.no_message_id(NOW))
    mb.remove(next(iter(mb.keys())))
    mb.flush()
    mb.unlock()
    mb.close()
    [res] = sync(cli)
    assert (res["status"], res["new"]) == ("ok", 1)
    assert len(inbox(cli)) == 5  # what was deleted from the mbox stays in the inbox


def test_first_sync_is_bounded_by_age_and_old_mail_never_comes_back(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    box = tmp_path / "Maildir"
    nl.make_maildir(box, [nl.substack(NOW - timedelta(days=30), n=1), nl.substack(NOW, n=2)])
    cli("source", "add", f"maildir:{box}")
    [res] = sync(cli)
    assert res["new"] == 1  # first_sync_days = 7
    nl.make_maildir(box, []).add(nl.buttondown_cp1252(NOW))
    [res] = sync(cli)
    assert res["new"] == 1
    assert sorted(i["title"] for i in inbox(cli)) == ["Exit tickets, week 2 ✏️", "One thing for Monday"]


def test_add_checks_the_mailbox_is_there(cli, pln_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "plain").mkdir()
    (tmp_path / "notes.txt").write_text("hello\n")
    for spec, msg in [
        (f"maildir:{tmp_path / 'nope'}", "no such directory"),
        (f"maildir:{tmp_path / 'plain'}", "not a Maildir (it has no cur/ and new/ folders)"),
        (f"mbox:{tmp_path / 'nope.mbox'}", "no such file"),
        (f"mbox:{tmp_path / 'notes.txt'}", "not an mbox file"),
        ("maildir:", "missing path"),
        (f"mbox:{tmp_path}", "no such file"),
    ]:
        r = cli("source", "add", spec, code=2)
        assert msg in r.stderr, (spec, r.stderr)
        assert r.stderr.count("\n") == 1
    assert not (pln_home / "config.toml").exists() or not Config.load(pln_home / "config.toml").sources


def test_a_vanished_maildir_is_one_failed_source(cli, tmp_path: Path, feed_server) -> None:  # type: ignore[no-untyped-def]
    box = tmp_path / "Maildir"
    nl.make_maildir(box, [nl.substack(NOW)])
    cli("source", "add", f"maildir:{box}")
    import shutil

    shutil.rmtree(box)
    r = cli("sync")
    assert "is gone (no such directory)" in r.stdout + r.stderr


def test_a_newsletter_link_joins_the_story_from_a_feed(cli, tmp_path: Path, feed_server) -> None:  # type: ignore[no-untyped-def]
    """The article a newsletter links to, published by a followed blog: one story that lists
    the newsletter among the people who shared it (PRODUCT.md, "One item, many paths")."""
    pub = (NOW - timedelta(days=4)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    rss = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Edutopia</title>
<link>https://www.edutopia.org/</link><item><title>Exit Tickets That Work</title>
<link>{nl.ARTICLE}</link><guid>{nl.ARTICLE}</guid><pubDate>{pub}</pubDate>
<description>Quick checks for understanding.</description></item></channel></rss>"""
    cli("source", "add", feed_server.route("/edutopia.xml", body=rss))
    box = tmp_path / "Maildir"
    nl.make_maildir(box, [nl.substack(NOW), nl.buttondown_cp1252(NOW)])
    cli("source", "add", f"maildir:{box}")
    sync(cli)
    story = next(i for i in inbox(cli) if i["title"] == "Exit Tickets That Work")
    assert story["kind"] == "feed"
    assert story["shared_by"] == ["Teaching Lab — Ana Ruiz", "Sam's Science Notes"]
    links = json.loads(cli("inbox", "--links", "--json").stdout)
    top = links[0]
    assert top["url"] == nl.ARTICLE  # the followed site's own address for its story
    assert top["count"] == 2 and top["in_feed"] is True
