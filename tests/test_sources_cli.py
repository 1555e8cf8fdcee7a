"""`pln source add/list/rm/import/export` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from companion.config import Config
from companion.credentials import Account, Credentials

DATA = Path(__file__).parent / "data" / "opml"

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Dana's blog</title>
<link>http://127.0.0.1/</link><item><title>Hello</title><guid>https://blog.example/1</guid>
</item></channel></rss>"""


@pytest.fixture
def blog(feed_server):  # type: ignore[no-untyped-def]
    """The URL of a real feed on loopback (`source add` checks what a URL is)."""
    return feed_server.route("/feed", body=RSS)


def sources(home: Path) -> list[str]:
    return [s.spec for s in Config.load(home / "config.toml").sources]


def test_add_list_rm_round_trip(cli, pln_home: Path, blog: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("source", "add", blog, "--name", "Dana's blog", "-t", "math")
    assert r.stdout.startswith("added ") and "Dana's blog" in r.stdout
    cli("source", "add", "#mtbos@mathstodon.xyz", "--topic", "math", "--topic", "community")
    # (a host that cannot be reached: added with a warning, and no lookup leaves loopback)
    r = cli("source", "add", "@dana@127.0.0.1:9")
    assert r.stderr.startswith("warning: could not check @dana@127.0.0.1:9")
    listed = json.loads(cli("source", "list", "--json").stdout)
    assert [(s["kind"], s["spec"], s["topics"]) for s in listed] == [
        ("feed", blog, ["math"]),
        ("tag", "#mtbos@mathstodon.xyz", ["math", "community"]),
        ("account", "@dana@127.0.0.1:9", []),
    ]
    assert all(s["health"] == {} for s in listed)
    table = cli("source", "list").stdout
    assert "Dana's blog" in table and "never synced" in table and "#mtbos@mathstodon.xyz" in table
    tag_id = listed[1]["id"]
    r = cli("source", "rm", tag_id[:4])
    assert r.stdout.strip() == f"removed {tag_id} #mtbos@mathstodon.xyz"
    assert sources(pln_home) == [blog, "@dana@127.0.0.1:9"]


def test_adding_twice_is_refused_and_changes_nothing(cli, pln_home: Path, blog: str) -> None:  # type: ignore[no-untyped-def]
    cli("source", "add", blog)
    before = (pln_home / "config.toml").read_bytes()
    r = cli("source", "add", blog.replace("http://", "HTTP://") + "#x", code=2)
    assert f"already following {blog}" in r.stderr
    assert (pln_home / "config.toml").read_bytes() == before


def test_bad_specs_exit_2_with_one_line(cli, pln_home: Path) -> None:  # type: ignore[no-untyped-def]
    for spec, msg in [
        ("ftp://x.example/feed", "not a URL"),
        ("@nobody", "expected @user@host"),
        ("#", "is not a hashtag"),
        ("list:", "missing list name"),
        ("whatever", "unknown source spec"),
    ]:
        r = cli("source", "add", spec, code=2)
        assert msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr
    assert not (pln_home / "config.toml").exists() or sources(pln_home) == []


def test_login_only_sources_need_an_account(cli, pln_home: Path) -> None:  # type: ignore[no-untyped-def]
    for spec in ("home", "mentions", "bookmarks", "followed-tags", "list:Teachers", "#edtech"):
        r = cli("source", "add", spec, code=2)
        assert "needs a logged-in account" in r.stderr and "pln login" in r.stderr
    r = cli("source", "add", "home", "--account", "work", code=2)
    assert "no account named 'work'" in r.stderr
    creds = Credentials.load(pln_home / "credentials.json")
    creds.put_account(Account("work", "https://school.example", "secret-token", "@me@school.example"))
    cli("source", "add", "home")
    cli("source", "add", "#edtech")
    cfg = Config.load(pln_home / "config.toml")
    assert [(s.kind, s.account) for s in cfg.sources] == [("home", "work"), ("tag", "work")]
    assert "secret-token" not in (pln_home / "config.toml").read_text()


def test_unknown_and_ambiguous_ids(cli, pln_home: Path, blog: str) -> None:  # type: ignore[no-untyped-def]
    cli("source", "add", blog)
    assert "no source with id 'zzzz'" in cli("source", "rm", "zzzz", code=2).stderr
    assert "too short" in cli("source", "rm", "ab", code=2).stderr


def test_import_newsboat_opml(cli, pln_home: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("source", "import", str(DATA / "newsboat.opml"))
    assert "imported 4 sources" in r.stdout
    cfg = Config.load(pln_home / "config.toml")
    assert [(s.kind, s.spec, s.name) for s in cfg.sources] == [
        ("feed", "https://www.cultofpedagogy.com/feed/", "Cult of Pedagogy"),
        ("feed", "https://larryferlazzo.edublogs.org/feed/", "Larry Ferlazzo's Websites of the Day…"),
        ("tag", "#edtech@mastodon.social", "#edtech"),
        ("account", "@dana@mathstodon.xyz", "Dana"),
    ]
    # importing again adds nothing and says why
    r = cli("source", "import", str(DATA / "newsboat.opml"))
    assert "imported 0 sources, skipped 4" in r.stdout
    assert r.stderr == "skipped 4 sources you already follow\n"  # one line, not four


def test_import_nested_folders_become_topics(cli, pln_home: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("source", "import", str(DATA / "feedly.opml"))
    assert "imported 3 sources, skipped 1" in r.stdout
    assert "javascript:alert(1)" in r.stderr
    cfg = Config.load(pln_home / "config.toml")
    got = {s.target: set(s.topics) for s in cfg.sources}
    assert got == {
        "https://www.edutopia.org/rss.xml": {"Teaching", "Research"},
        "https://mathwithbaddrawings.com/feed/": {"Teaching/Math"},
        "https://theconversation.com/us/education/articles.atom": {"Research"},
    }


def test_opml_round_trip(cli, pln_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for f in ("feedly.opml", "freshrss.opml", "newsboat.opml"):
        cli("source", "import", str(DATA / f))
    first = Config.load(pln_home / "config.toml").sources
    out = tmp_path / "export.opml"
    cli("source", "export", "-o", str(out))
    stdout_export = cli("source", "export").stdout
    assert stdout_export == out.read_text()
    # a second home imports the export and follows exactly the same things
    other = tmp_path / "other"
    import os

    os.environ["PLN_HOME"] = str(other)
    cli("source", "import", str(out))
    second = Config.load(other / "config.toml").sources
    assert {(s.kind, s.canonical, s.name, frozenset(s.topics)) for s in first} == {
        (s.kind, s.canonical, s.name, frozenset(s.topics)) for s in second
    }
    assert {s.id for s in first} == {s.id for s in second}


def test_export_leaves_out_login_only_sources(cli, pln_home: Path, blog: str) -> None:  # type: ignore[no-untyped-def]
    creds = Credentials.load(pln_home / "credentials.json")
    creds.put_account(Account("me", "https://school.example", "tok", "@me@school.example"))
    cli("source", "add", "home")
    cli("source", "add", blog)
    r = cli("source", "export")
    assert blog in r.stdout and "home" not in r.stdout.split("<body>")[1]
    assert "not exported: home" in r.stderr


def test_import_rejects_a_file_that_is_not_opml(cli, pln_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "x.opml"
    bad.write_text("this is not xml at all")
    r = cli("source", "import", str(bad), code=2)
    assert "not an OPML file" in r.stderr
    r = cli("source", "import", str(tmp_path / "missing.opml"), code=2)
    assert "cannot read" in r.stderr


def test_the_unknown_spec_message_names_every_form_and_is_not_redacted(cli) -> None:  # type: ignore[no-untyped-def]
    """Messages go through the same redaction as URLs with logins (issue 12): the list of
    SPEC forms must not read `imaps://***@host` to a user trying to learn them."""
    r = cli("source", "add", "nonsense", code=2)
    assert "***" not in r.stderr and "maildir:PATH" in r.stderr and "imaps://" in r.stderr
    assert r.stderr.count("\n") == 1
