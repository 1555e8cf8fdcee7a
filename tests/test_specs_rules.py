"""The rules of SPEC parsing (README "Source kinds"), one by one: host names as DNS (RFC 1035
§2.3.1/RFC 1123 §2.1) allows them, loopback as ipaddress knows it, hashtags as Mastodon
writes them, and which specs are the same source."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from companion.errors import UsageError
from companion.ids import SOURCE_ID_LEN, short_id
from companion.specs import (
    ACCOUNT,
    FEED,
    LIST,
    TAG,
    SourceSpec,
    host_base_url,
    is_loopback_host,
    normalize_feed_url,
    parse_spec,
)

# ----- loopback: plain http is only ever spoken to this machine ------------------------------


@pytest.mark.parametrize("host", [
    "localhost", "localhost:3000", "127.0.0.1", "127.0.0.1:8080", "127.1.2.3", "127.255.255.254:1",
    "::1", "[::1]", "[::1]:3000",
])  # fmt: skip
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host) is True
    assert host_base_url(host) == f"http://{host}"


def test_login_over_plain_http_to_ipv6_loopback_with_a_port() -> None:
    from companion.accounts import normalize_instance_url

    assert normalize_instance_url("http://[::1]:3000") == "http://[::1]:3000"
    with pytest.raises(UsageError, match="use https://"):
        normalize_instance_url("http://[fd00::1]:3000")


@pytest.mark.parametrize("host", [
    "10.0.0.1", "10.0.0.1:80", "192.168.1.1", "172.16.0.1", "169.254.1.1", "0.0.0.0", "::",
    "[fd00::1]", "128.0.0.1", "localhost.example", "mylocalhost", "127.0.0.1.example",
    "example.com", "mastodon.social:443", "[::2]:3000", "",
    "[::1]]:3000", "[::1", "[::1]x", "[::1]:", "[::1]:30x0", "[::1]:x3000", "[::1]3000",
    "[::1]::3000",  # not host names
])  # fmt: skip
def test_other_hosts_are_not_loopback_and_get_https(host: str) -> None:
    assert is_loopback_host(host) is False
    assert host_base_url(host) == f"https://{host}"


def test_loopback_agrees_with_ipaddress_over_the_address_space() -> None:
    for n in range(0, 2**32, 2**24 + 12345):  # 256 addresses spread over IPv4
        addr = str(ipaddress.ip_address(n))
        assert is_loopback_host(addr) is ipaddress.ip_address(addr).is_loopback, addr
        assert is_loopback_host(f"{addr}:8080") is ipaddress.ip_address(addr).is_loopback, addr


# ----- host names --------------------------------------------------------------------------------


@pytest.mark.parametrize("host", [
    "a", "a.b", "mastodon.social", "MASTODON.Social", "xn--bcher-kva.example", "a-b.c",
    "1.2.3.4", "host:1", "host:65535", "a" * 63 + ".example", "9gag.example",
    ".".join(["a" * 63] * 3) + "." + "a" * 61,  # 253 characters
])  # fmt: skip
def test_host_names_dns_allows(host: str) -> None:
    spec = parse_spec(f"@ada@{host}")
    assert spec.host == host.lower()
    assert spec.target == f"@ada@{host.lower()}"


@pytest.mark.parametrize("host", [
    "-a.example", "a-.example", "a..example", ".example", "example.", "a_b.example",
    "a" * 64 + ".example", "exa mple.org", "host:", "host:123456", "host:x", "bücher.example",
    ".".join(["a" * 63] * 3) + "." + "a" * 62,  # 254 characters
    "a/b", "[::1]",
])  # fmt: skip
def test_host_names_dns_does_not_allow(host: str) -> None:
    with pytest.raises(UsageError, match="is not a host name"):
        parse_spec(f"@ada@{host}")
    with pytest.raises(UsageError, match="is not a host name"):
        parse_spec(f"#tag@{host}")


# ----- accounts, tags, lists, timelines ------------------------------------------------------


@pytest.mark.parametrize("user", ["ada", "Ada_Lovelace", "_x", "a.b", "a-b", "a1", "1a", "A"])
def test_user_names(user: str) -> None:
    assert parse_spec(f"@{user}@m.example").target == f"@{user}@m.example"


@pytest.mark.parametrize("user", [".ada", "-ada", "a b", "a+b", "ad@", "ädä", "a!"])
def test_bad_user_names(user: str) -> None:
    with pytest.raises(UsageError):
        parse_spec(f"@{user}@m.example")


@pytest.mark.parametrize("tag", ["edtech", "EdTech", "ed_tech", "_x", "x1", "1x", "éducation",
                                 "日本語", "l·l", "Straße", "ÉLÈVE"])
def test_hashtags_mastodon_allows(tag: str) -> None:
    spec = parse_spec(f"#{tag}")
    assert (spec.kind, spec.target, spec.host) == (TAG, tag, None)
    assert spec.spec == f"#{tag}"


@pytest.mark.parametrize("tag", ["", "·x", "ed-tech", "ed tech", "ed.tech", "#x", "x!", "x/y"])
def test_hashtags_mastodon_does_not_allow(tag: str) -> None:
    with pytest.raises(UsageError, match="is not a hashtag"):
        parse_spec(f"#{tag}")


def test_timelines_and_lists_in_any_case() -> None:
    for name in ("home", "mentions", "bookmarks", "followed-tags"):
        for text in (name, name.upper(), f"  {name.title()} "):
            spec = parse_spec(text)
            assert (spec.kind, spec.target, spec.spec) == (name, name, name)
    spec = parse_spec("LIST: Math Teachers ")
    assert (spec.kind, spec.target, spec.spec) == (LIST, "Math Teachers", "list:Math Teachers")
    with pytest.raises(UsageError, match="missing list name"):
        parse_spec("list:   ")


def test_feed_urls_in_any_case_and_only_http() -> None:
    assert parse_spec("HTTP://Blog.Example/Feed").target == "http://blog.example/Feed"
    assert parse_spec("  https://blog.example/feed  ").kind == FEED
    for text in ("feed://blog.example/rss", "gopher://x.example/", "Ftp://x.example/"):
        with pytest.raises(UsageError, match="expected http:// or https://"):
            parse_spec(text)


# ----- the same source, whatever its spelling ------------------------------------------------


def test_canonical_text_of_each_kind() -> None:
    assert parse_spec("https://blog.example/feed").canonical == "https://blog.example/feed"
    assert parse_spec("@Ada@M.example").canonical == "@ada@m.example"
    assert parse_spec("#EdTech").canonical == "#edtech@"
    assert parse_spec("#EdTech@m.example").canonical == "#edtech@m.example"
    assert parse_spec("#EdTech", account="work").canonical == "#edtech@|work"
    assert parse_spec("list:Teachers").canonical == "list:Teachers|"
    assert parse_spec("list:Teachers", account="work").canonical == "list:Teachers|work"
    assert parse_spec("home").canonical == "home|"
    assert parse_spec("home", account="work").canonical == "home|work"


def test_the_id_is_the_short_hash_of_the_canonical_text() -> None:
    for text in ("https://blog.example/feed", "@ada@m.example", "#edtech", "list:A", "home"):
        spec = parse_spec(text)
        assert spec.id == short_id(spec.canonical, SOURCE_ID_LEN)
    assert parse_spec("home", id="abc123").id == "abc123"  # an id from config.toml is kept
    assert SourceSpec(ACCOUNT, "@a@b.example", id="kept00").with_id().id == "kept00"


def test_hashtags_are_the_same_source_under_unicode_case_folding() -> None:
    # casefold, not lower: "ß" folds to "ss" (Unicode CaseFolding.txt), "ς" to "σ"
    assert parse_spec("#Straße").id == parse_spec("#STRASSE").id == parse_spec("#strasse").id
    assert parse_spec("#ΛΌΓΟΣ").id == parse_spec("#λόγος").id
    assert parse_spec("#edtech").id != parse_spec("#edtech2").id
    # the account a tag is read with, and its instance, are part of it
    assert parse_spec("#edtech").id != parse_spec("#edtech@m.example").id
    assert parse_spec("#edtech").id != parse_spec("#edtech", account="work").id


def test_accounts_are_the_same_source_in_any_case() -> None:
    assert parse_spec("@Ada@M.Example").id == parse_spec("@ada@m.example").id
    assert parse_spec("@Ada@M.Example").target == "@Ada@m.example"  # shown as typed


def test_lists_are_told_apart_by_name_and_account() -> None:
    ids = {parse_spec("list:A").id, parse_spec("list:a").id, parse_spec("list:A", account="w").id,
           parse_spec("home").id, parse_spec("home", account="w").id,
           parse_spec("mentions", account="w").id}
    assert len(ids) == 6


def test_label_is_the_name_else_the_spec() -> None:
    assert parse_spec("#edtech@m.example").label == "#edtech@m.example"
    assert parse_spec("#edtech", name="EdTech people").label == "EdTech people"
    assert parse_spec("list:T").label == "list:T"
    assert parse_spec("@a@m.example").label == "@a@m.example"
    assert parse_spec("https://b.example/f").label == "https://b.example/f"
    assert parse_spec("bookmarks").label == "bookmarks"


def test_a_tags_account_is_part_of_it_whatever_its_name() -> None:
    assert parse_spec("#t", account="BOX").canonical == "#t@|BOX"
    assert parse_spec("#t", account="BOX").id != parse_spec("#t", account="BO").id


def test_space_around_the_host_of_a_spec_is_not_part_of_it() -> None:
    assert parse_spec("@ada@ m.example").host == "m.example"
    assert parse_spec("#edtech@ m.example").host == "m.example"


def test_a_spec_knows_no_place_in_a_file_until_config_gives_it_one(tmp_path: Path) -> None:
    from companion.config import Config

    assert parse_spec("home").index == -1
    cfg = tmp_path / "config.toml"
    cfg.write_text('[[sources]]\ntimeline = "home"\n[[sources]]\ntag = "edtech"\n')
    assert [s.index for s in Config.load(cfg).sources] == [0, 1]


def test_extra_settings_are_not_part_of_a_specs_identity() -> None:
    a = SourceSpec(TAG, "edtech", extra={"limit": 1})
    b = SourceSpec(TAG, "edtech", extra={"limit": 2})
    assert a == b and hash(a) == hash(b)  # hashable although extra is a dict


def test_name_topics_and_account_are_carried() -> None:
    spec = parse_spec("#pln", name="PLN", topics=["#edtech", "edtech", " math ", "", "  ",
                                                  "#Xylophone", "X"], account="work")
    assert (spec.name, spec.topics, spec.account) == ("PLN", ("edtech", "math", "Xylophone", "X"),
                                                      "work")
    assert parse_spec("home").topics == ()


# ----- feed URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "normal"), [
    ("https://Blog.Example/Feed.xml", "https://blog.example/Feed.xml"),
    ("HTTPS://blog.example", "https://blog.example/"),
    ("http://blog.example:80/f", "http://blog.example/f"),
    ("https://blog.example:443/f", "https://blog.example/f"),
    ("https://blog.example:80/f", "https://blog.example:80/f"),
    ("http://blog.example:443/f", "http://blog.example:443/f"),
    ("https://blog.example/f?x=1&utm_source=y#top", "https://blog.example/f?x=1&utm_source=y"),
    ("http://[::1]:8080/feed", "http://[::1]:8080/feed"),
    ("http://[::1]/feed", "http://[::1]/feed"),
    ("https://Ada:PW@Blog.example/f", "https://Ada:PW@blog.example/f"),
    ("https://ada@blog.example:8443/f", "https://ada@blog.example:8443/f"),
    ("https://:secret@blog.example/f", "https://:secret@blog.example/f"),  # a password alone
    ("https://ada:p@ss@Blog.example/f", "https://ada:p@ss@blog.example/f"),  # "@" in it
    ("  https://blog.example/f  ", "https://blog.example/f"),
])  # fmt: skip
def test_feed_url_normal_form(url: str, normal: str) -> None:
    assert normalize_feed_url(url) == normal


@pytest.mark.parametrize(("url", "reason"), [
    ("https://blog.example/a feed", "contains spaces"),
    ("https://blog.example/a\tfeed", "contains spaces"),
    ("blog.example/feed", "expected http:// or https://"),
    ("mailto:ada@blog.example", "expected http:// or https://"),
    ("https:///feed", "no host"),
    ("https://blog.example:0x50/feed", "bad port"),
    ("https://blog.example:70000/feed", "bad port"),
])  # fmt: skip
def test_feed_url_refused(url: str, reason: str) -> None:
    with pytest.raises(UsageError, match=reason) as e:
        normalize_feed_url(url)
    assert e.value.exit_code == 2
