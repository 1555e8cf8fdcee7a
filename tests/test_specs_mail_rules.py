"""The rules of mail, Bluesky and scheme-less SPECs, one at a time (issue 19: the mutation run
of companion/specs.py found them unstated).

A source's identity is the text its id is derived from (``SourceSpec.canonical``): it must
never change between versions, or a source's sync state and items come loose from it. So the
identity texts are stated exactly here.
"""

from __future__ import annotations

import pytest

from companion.errors import UsageError
from companion.ids import short_id
from companion.specs import ImapAddress, imap_address, parse_spec


def refused(text: str, **options: object) -> str:
    with pytest.raises(UsageError) as e:
        parse_spec(text, **options)  # type: ignore[arg-type]
    assert e.value.exit_code == 2 and "\n" not in e.value.message
    return e.value.message


# ----- identity ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "options", "canonical"), [
    ("maildir:/var/mail/news", {}, "maildir:/var/mail/news"),
    ("mbox:/var/mail/t", {}, "mbox:/var/mail/t"),
    ("imaps://t@imap.example.org/News", {}, "imaps://t@imap.example.org/News"),
    ("imap://t@127.0.0.1:1143/INBOX", {}, "imap://t@127.0.0.1:1143/INBOX"),
    # filters are part of the identity, sorted: the same folder filtered otherwise is another
    # source, the same filters in another order the same one
    ("maildir:/m", {"senders": ["z@b.example", "@a.example"]}, "maildir:/m|from=@a.example,z@b.example"),
    ("maildir:/m", {"list_ids": ["b.example", "a.example"]}, "maildir:/m|list=a.example,b.example"),
    ("imaps://t@imap.example.org/News", {"senders": ["n@x.example"], "list_ids": ["l.example"]},
     "imaps://t@imap.example.org/News|from=n@x.example|list=l.example"),
    ("bsky:Ada.example", {}, "bsky:ada.example"),
])
def test_the_identity_of_mail_and_bluesky_sources(text: str, options: dict[str, object],
                                                  canonical: str) -> None:
    spec = parse_spec(text, **options)  # type: ignore[arg-type]
    assert spec.canonical == canonical
    assert spec.id == short_id(canonical, 6)


# ----- IMAP ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "target", "address"), [
    ("imap://t@mail.example/News", "imap://t@mail.example/News",
     ImapAddress(False, "t", "mail.example", 143, "News")),
    ("imap://t@mail.example:143/News", "imap://t@mail.example/News",  # the default port: left out
     ImapAddress(False, "t", "mail.example", 143, "News")),
    ("imaps://t@mail.example:993/News", "imaps://t@mail.example/News",
     ImapAddress(True, "t", "mail.example", 993, "News")),
    ("imaps://t@mail.example:143/News", "imaps://t@mail.example:143/News",  # not imaps' default
     ImapAddress(True, "t", "mail.example", 143, "News")),
    ("imap://t@127.0.0.1:1143/Lists", "imap://t@127.0.0.1:1143/Lists",
     ImapAddress(False, "t", "127.0.0.1", 1143, "Lists")),  # the host without its port
    ("IMAPS://t@Mail.Example/News", "imaps://t@mail.example/News",  # scheme and host any case
     ImapAddress(True, "t", "mail.example", 993, "News")),
    ("imaps://t@mail.example//Lists/Edu/", "imaps://t@mail.example/Lists/Edu",  # slashes trimmed
     ImapAddress(True, "t", "mail.example", 993, "Lists/Edu")),
    ("imaps://t@mail.example/Lists%2FEdu", "imaps://t@mail.example/Lists/Edu",
     ImapAddress(True, "t", "mail.example", 993, "Lists/Edu")),
    ("imaps://t@mail.example/Archive://2024", "imaps://t@mail.example/Archive%3A//2024",
     ImapAddress(True, "t", "mail.example", 993, "Archive://2024")),  # only the first :// splits
])
def test_imap_specs_are_normalized_and_read_back(text: str, target: str,
                                                 address: ImapAddress) -> None:
    spec = parse_spec(text)
    assert spec.target == target
    assert imap_address(spec) == address
    assert parse_spec(spec.spec).id == spec.id


@pytest.mark.parametrize(("text", "message"), [
    ("imaps://mail.example/News", "missing user name"),
    ("imaps://@mail.example/News", "missing user name"),  # an '@' with nobody before it
])
def test_an_imap_spec_names_its_user(text: str, message: str) -> None:
    assert message in refused(text)


# ----- Maildir and mbox ----------------------------------------------------------------------

def test_a_mail_path_is_trimmed_and_may_hold_a_colon() -> None:
    assert parse_spec("maildir:  /var/mail/news  ").target == "/var/mail/news"
    assert parse_spec("maildir:\t/var/mail/news").target == "/var/mail/news"
    assert parse_spec("mbox:/mail/a:b").target == "/mail/a:b"  # only the first ':' splits
    assert parse_spec("MBOX:/mail/t").kind == "mbox"


def test_a_path_with_a_nul_is_refused() -> None:
    assert "not a path" in refused("maildir:/var/mail/a\x00b")


# ----- Bluesky -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "target"), [
    ("bsky: ada.example ", "ada.example"),
    ("bsky:\t@ada.example", "ada.example"),
    ("bsky:Xavier.example", "xavier.example"),  # only an '@' is taken off the front
    ("bsky:XX.example", "xx.example"),
    ("@Xavier.bsky.social", "xavier.bsky.social"),
])
def test_a_bluesky_handle_is_trimmed_and_lowercased(text: str, target: str) -> None:
    assert parse_spec(text).target == target


# ----- mail filters --------------------------------------------------------------------------

@pytest.mark.parametrize(("options", "message"), [
    ({"senders": ["a@b.example"]}, "--from applies only to mail sources"),
    ({"list_ids": ["l.example"]}, "--list-id applies only to mail sources"),
    ({"mark_seen": True}, "mark_seen applies only to mail sources"),
    ({"senders": ["a@b.example"], "list_ids": ["l.example"]}, "--from applies only"),
    ({"list_ids": ["l.example"], "mark_seen": True}, "--list-id applies only"),
])
def test_a_mail_option_on_another_source_is_named(options: dict[str, object],
                                                  message: str) -> None:
    assert message in refused("https://blog.example/feed", **options)


@pytest.mark.parametrize(("sender", "kept"), [
    (" news@x.example ", "news@x.example"),
    ("News < News@X.example > ", "news@x.example"),
    ("\tx.example", "@x.example"),  # a domain alone: everything it sends
])
def test_senders_are_trimmed_and_lowercased(sender: str, kept: str) -> None:
    assert parse_spec("maildir:/m", senders=[sender]).senders == (kept,)


@pytest.mark.parametrize(("list_id", "kept"), [
    (" <weekly.example> ", "weekly.example"),
    ("< weekly.example >", "weekly.example"),
    ("<XWeekly.example>", "xweekly.example"),  # only the brackets and spaces go
    ("Weekly.example", "weekly.example"),
])
def test_list_ids_are_trimmed_unbracketed_and_lowercased(list_id: str, kept: str) -> None:
    assert parse_spec("maildir:/m", list_ids=[list_id]).list_ids == (kept,)


# ----- a feed URL without its scheme ---------------------------------------------------------

@pytest.mark.parametrize("text", ["blog.example/feed", "Blog.Example/feeds/all.xml",
                                  "blog.example", "blog.example:8080/rss"])
def test_a_host_without_a_scheme_gets_a_suggestion(text: str) -> None:
    assert refused(text) == f"unknown source spec {text!r}: did you mean https://{text} ?"


@pytest.mark.parametrize("text", ["localhost/feed", "my feed.example/x", "blog.example/my feed",
                                  "newsletter", "bad_host.example/feed"])
def test_anything_else_gets_the_list_of_forms(text: str) -> None:
    message = refused(text)
    assert "did you mean" not in message and "expected a feed URL (https://…)" in message
