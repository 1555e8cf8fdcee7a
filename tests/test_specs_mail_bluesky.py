"""SPECs of issue 18: maildir:/mbox:/imap[s]:// newsletters and Bluesky handles, their
errors, their config.toml tables and their OPML."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from companion.config import Config, source_from_table, source_to_table
from companion.errors import ConfigError, UsageError
from companion.opml import export_opml, parse_opml
from companion.specs import imap_address, parse_spec


@pytest.mark.parametrize(
    ("text", "kind", "target", "spec"),
    [
        ("maildir:/home/t/Mail/News", "maildir", "/home/t/Mail/News", "maildir:/home/t/Mail/News"),
        ("MAILDIR:/home/t/Mail/News/", "maildir", "/home/t/Mail/News", "maildir:/home/t/Mail/News"),
        ("mbox:/var/mail/teacher", "mbox", "/var/mail/teacher", "mbox:/var/mail/teacher"),
        ("imaps://me@example.org@IMAP.Example.org/Newsletters", "imap",
         "imaps://me%40example.org@imap.example.org/Newsletters",
         "imaps://me%40example.org@imap.example.org/Newsletters"),
        ("imaps://teacher@imap.example.org:993/", "imap", "imaps://teacher@imap.example.org/INBOX",
         "imaps://teacher@imap.example.org/INBOX"),
        ("imap://teacher@127.0.0.1:1143/Lists/Edu%20News", "imap",
         "imap://teacher@127.0.0.1:1143/Lists/Edu%20News",
         "imap://teacher@127.0.0.1:1143/Lists/Edu%20News"),
        ("@Jay.bsky.team", "bluesky", "jay.bsky.team", "@jay.bsky.team"),
        ("@educator.bsky.social", "bluesky", "educator.bsky.social", "@educator.bsky.social"),
        ("bsky:ms-lee.school.example", "bluesky", "ms-lee.school.example", "@ms-lee.school.example"),
        ("bsky:@ms-lee.school.example", "bluesky", "ms-lee.school.example", "@ms-lee.school.example"),
        ("bsky:did:plc:z72i7hdynmk6r22z27h6tvur", "bluesky", "did:plc:z72i7hdynmk6r22z27h6tvur",
         "bsky:did:plc:z72i7hdynmk6r22z27h6tvur"),
    ],
)
def test_every_new_spec_form(text: str, kind: str, target: str, spec: str) -> None:
    s = parse_spec(text)
    assert (s.kind, s.target, s.spec) == (kind, target, spec)
    assert len(s.id) == 6 and s.id.isalnum()
    assert parse_spec(s.spec).id == s.id  # the spec as shown parses back to the same source


def test_a_mail_path_is_expanded_but_never_read() -> None:
    s = parse_spec("maildir:~/Mail/does-not-exist-yet")
    assert s.target == os.path.join(os.path.expanduser("~"), "Mail", "does-not-exist-yet")


def test_bluesky_handles_and_fediverse_accounts_never_meet() -> None:
    # one @ and a domain: Bluesky; two @: a fediverse account, even on a bsky-like host
    assert parse_spec("@alice.bsky.social").kind == "bluesky"
    assert parse_spec("@alice@bsky.social").kind == "account"
    assert parse_spec("@alice@bsky.brid.gy").kind == "account"  # Bridgy Fed: fediverse
    assert parse_spec("@alice.bsky.social").id != parse_spec("@alice@bsky.social").id
    assert parse_spec("@Alice.bsky.social").id == parse_spec("bsky:alice.bsky.social").id


def test_imap_address_parts() -> None:
    a = imap_address(parse_spec("imaps://me@example.org@imap.example.org/Newsletters"))
    assert (a.tls, a.user, a.host, a.port, a.folder) == (
        True, "me@example.org", "imap.example.org", 993, "Newsletters")
    assert a.login == "me@example.org@imap.example.org:993"
    b = imap_address(parse_spec("imap://t@127.0.0.1:1143/Lists/Edu%20News"))
    assert (b.tls, b.port, b.folder) == (False, 1143, "Lists/Edu News")
    # one password per login: two folders of the same account share it
    assert imap_address(parse_spec("imap://t@127.0.0.1:1143/INBOX")).login == b.login


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("maildir:", "missing path"),
        ("mbox:   ", "missing path"),
        ("imaps://imap.example.org/INBOX", "missing user name"),
        ("imaps://me@/INBOX", "missing host"),
        ("imaps://me@imap.example.org:99999/INBOX", "bad port"),
        ("imaps://me@bad_host!/INBOX", "is not a host name"),
        ('imaps://me@imap.example.org/a"b', "is not a folder name"),
        ("bsky:", "missing handle"),
        ("bsky:not a handle", "is not a Bluesky handle"),
        ("@under_score.bsky.social", "is not a Bluesky handle"),
        ("@name.123", "is not a Bluesky handle"),  # the last label must start with a letter
        ("bsky:did:key:z6Mk", "is not a Bluesky DID"),
        ("@alice", "expected @user@host"),
        ("pop3://me@mail.example.org/", "not a URL"),
        ("newsletter", "maildir:PATH"),  # the list of forms names the new ones
    ],
)
def test_malformed_new_specs_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(UsageError) as e:
        parse_spec(text)
    assert message in e.value.message
    assert "\n" not in e.value.message
    assert e.value.exit_code == 2


def test_a_password_in_an_imap_spec_is_refused_and_never_echoed() -> None:
    with pytest.raises(UsageError) as e:
        parse_spec("imaps://teacher:hunter2-secret@imap.example.org/INBOX")
    assert "hunter2" not in e.value.message
    assert "put no password in the spec" in e.value.message


def test_mail_filters_are_normalized_and_part_of_the_identity() -> None:
    s = parse_spec("maildir:/m", senders=["News <News@Substack.com>", "example.org"],
                   list_ids=["<Weekly.Example.org>"])
    assert s.senders == ("news@substack.com", "@example.org")
    assert s.list_ids == ("weekly.example.org",)
    # the same folder, filtered on other newsletters, is another source
    assert s.id != parse_spec("maildir:/m").id
    assert s.id == parse_spec("maildir:/m", senders=["@example.org", "news@substack.com"],
                              list_ids=["weekly.example.org"]).id


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("maildir:/m", {"senders": ["not an address"]}, "--from 'not an address'"),
        ("maildir:/m", {"list_ids": ["two words"]}, "--list-id 'two words'"),
        ("https://blog.example/feed", {"senders": ["a@b.example"]}, "only to mail sources"),
        ("@a.bsky.social", {"list_ids": ["x.example"]}, "only to mail sources"),
        ("mbox:/var/mail/t", {"mark_seen": True}, "never rewrites an mbox"),
    ],
)
def test_bad_mail_options(text: str, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as e:
        parse_spec(text, **kwargs)  # type: ignore[arg-type]
    assert message in e.value.message


def test_config_tables_round_trip(tmp_path: Path) -> None:
    specs = [
        parse_spec("maildir:/home/t/Maildir/.Newsletters", name="Newsletters", topics=["news"],
                   senders=["@substack.com"], list_ids=["lettre.cafepedagogique.net"]),
        parse_spec("mbox:/var/mail/t"),
        parse_spec("imaps://me@example.org@imap.example.org/Lists/Edu%20News", mark_seen=True),
        parse_spec("@educator.bsky.social", topics=["people"]),
        parse_spec("bsky:did:plc:z72i7hdynmk6r22z27h6tvur"),
    ]
    import tomlkit

    doc = tomlkit.document()
    aot = tomlkit.aot()
    for s in specs:
        aot.append(source_to_table(s))
    doc["sources"] = aot
    text = tomlkit.dumps(doc)
    assert "password" not in text
    path = tmp_path / "config.toml"
    path.write_text(text)
    back = Config.load(path).sources
    assert [(b.kind, b.target, b.id, b.senders, b.list_ids, b.mark_seen, b.topics) for b in back] == [
        (s.kind, s.target, s.id, s.senders, s.list_ids, s.mark_seen, s.topics) for s in specs]
    assert 'maildir = "/home/t/Maildir/.Newsletters"' in text
    assert 'bluesky = "educator.bsky.social"' in text
    assert "mark_seen = true" in text


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"imap": "https://imap.example.org/"}, "sources[0].imap: expected an IMAP folder URL: imaps://"),
        ({"maildir": "/m", "from": 3}, "sources[0].from: expected a string or a list"),
        ({"maildir": "/m", "mark_seen": "yes"}, "sources[0].mark_seen: expected true or false"),
        ({"mbox": "/m", "mark_seen": True}, "never rewrites an mbox"),
        ({"bluesky": "not a handle"}, "sources[0].bluesky: 'bsky:not a handle'"),
        ({"maildir": "/m", "url": "https://a.example/"}, "needs exactly one of"),
    ],
)
def test_bad_config_tables_name_the_place(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        source_from_table(table, 0, Path("config.toml"))
    assert message in e.value.message


def test_from_may_be_one_string_in_config() -> None:
    s = source_from_table({"maildir": "/m", "from": "News@Example.org"}, 0, Path("c.toml"))
    assert s.senders == ("news@example.org",)


def test_bluesky_base_setting(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[settings]\nbluesky_base = "http://127.0.0.1:8080/"\n')
    assert Config.load(path).settings.bluesky_base == "http://127.0.0.1:8080"
    path.write_text('[settings]\nbluesky_base = "bsky.app"\n')
    with pytest.raises(ConfigError, match="bluesky_base: expected an http"):
        Config.load(path)


def test_opml_round_trip_keeps_bluesky_and_leaves_mailboxes_out() -> None:
    specs = [
        parse_spec("@educator.bsky.social", name="Ms Lee", topics=["people", "Edu/Math"]),
        parse_spec("bsky:did:plc:z72i7hdynmk6r22z27h6tvur"),
        parse_spec("maildir:/home/t/Maildir"),
        parse_spec("imaps://t@imap.example.org/INBOX"),
        parse_spec("@alice@mastodon.example"),
    ]
    text, skipped = export_opml(specs)
    assert 'xmlUrl="https://bsky.app/profile/educator.bsky.social/rss"' in text
    assert 'xmlUrl="https://bsky.app/profile/did:plc:z72i7hdynmk6r22z27h6tvur/rss"' in text
    assert [s.kind for s in skipped] == ["maildir", "imap"]
    assert "imap" not in text and "Maildir" not in text
    entries = parse_opml(text)
    assert [(e.spec, e.title, set(e.topics)) for e in entries] == [
        ("bsky:educator.bsky.social", "Ms Lee", {"people", "Edu/Math"}),
        ("bsky:did:plc:z72i7hdynmk6r22z27h6tvur", "bsky:did:plc:z72i7hdynmk6r22z27h6tvur", set()),
        ("@alice@mastodon.example", "@alice@mastodon.example", set()),
    ]
    assert [parse_spec(e.spec).id for e in entries] == [specs[0].id, specs[1].id, specs[4].id]
