"""Every SPEC form of PRODUCT.md and its errors."""

from __future__ import annotations

import pytest

from companion.errors import UsageError
from companion.specs import normalize_feed_url, parse_spec


@pytest.mark.parametrize(
    ("text", "kind", "target", "host", "spec"),
    [
        ("https://Example.ORG/feed.xml", "feed", "https://example.org/feed.xml", None,
         "https://example.org/feed.xml"),
        ("http://blog.example:80/atom", "feed", "http://blog.example/atom", None,
         "http://blog.example/atom"),
        ("https://blog.example:8443/rss?x=1#top", "feed", "https://blog.example:8443/rss?x=1", None,
         "https://blog.example:8443/rss?x=1"),
        ("https://blog.example", "feed", "https://blog.example/", None, "https://blog.example/"),
        ("@alice@Mastodon.Social", "account", "@alice@mastodon.social", "mastodon.social",
         "@alice@mastodon.social"),
        ("@bob_1.x@127.0.0.1:3000", "account", "@bob_1.x@127.0.0.1:3000", "127.0.0.1:3000",
         "@bob_1.x@127.0.0.1:3000"),
        ("#edtech", "tag", "edtech", None, "#edtech"),
        ("#EdTech@mastodon.social", "tag", "EdTech", "mastodon.social", "#EdTech@mastodon.social"),
        ("#éducation", "tag", "éducation", None, "#éducation"),
        ("home", "home", "home", None, "home"),
        ("Mentions", "mentions", "mentions", None, "mentions"),
        ("bookmarks", "bookmarks", "bookmarks", None, "bookmarks"),
        ("followed-tags", "followed-tags", "followed-tags", None, "followed-tags"),
        ("list:Math Teachers", "list", "Math Teachers", None, "list:Math Teachers"),
    ],
)
def test_every_spec_form(text: str, kind: str, target: str, host: str | None, spec: str) -> None:
    s = parse_spec(text)
    assert (s.kind, s.target, s.host, s.spec) == (kind, target, host, spec)
    assert len(s.id) == 6 and s.id.isalnum()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty source spec"),
        ("   ", "empty source spec"),
        ("ftp://example.org/feed", "not a URL"),
        ("https://", "no host"),
        ("https://exa mple.org/feed", "contains spaces"),
        ("https://example.org:99999/feed", "bad port"),
        ("@alice", "expected @user@host"),
        ("@alice@", "expected @user@host"),
        ("@@host.example", "expected @user@host"),
        ("@al ice@host.example", "not a valid user name"),
        ("@alice@not_a_host!", "is not a host name"),
        ("@a@b@c", "expected @user@host"),
        ("#", "is not a hashtag"),
        ("#two words", "is not a hashtag"),
        ("#tag@", "missing host"),
        ("#tag@bad host", "is not a host name"),
        ("list:", "missing list name"),
        ("timeline", "unknown source spec"),
        ("example.org/feed", "unknown source spec"),
    ],
)
def test_malformed_specs_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(UsageError) as e:
        parse_spec(text)
    assert message in e.value.message
    assert e.value.exit_code == 2


def test_ids_are_stable_and_distinguish_sources() -> None:
    assert parse_spec("https://a.example/feed").id == parse_spec("HTTPS://A.example:443/feed").id
    assert parse_spec("#EdTech@m.example").id == parse_spec("#edtech@m.example").id
    ids = {parse_spec(t).id for t in ("#edtech", "#edtech@m.example", "home", "mentions",
                                       "list:A", "list:B", "@a@m.example", "https://a.example/")}
    assert len(ids) == 8
    # the account a timeline is read with is part of its identity
    assert parse_spec("home", account="work").id != parse_spec("home", account="home").id


def test_topics_are_deduplicated_and_stripped() -> None:
    assert parse_spec("#pln", topics=["#edtech", "edtech", " math ", ""]).topics == ("edtech", "math")


def test_feed_url_keeps_credentials_and_path() -> None:
    assert normalize_feed_url("https://u:p@Host.example/a%20b?q=1") == "https://u:p@host.example/a%20b?q=1"
