"""Newsletter messages -> items (companion/sources/mail_items.py), on real-world-shaped mail:
encodings, charsets, tracking pixels and redirects, the shared link, the list headers."""

from __future__ import annotations

from datetime import UTC, datetime

from companion.sources.mail_items import envelope, normalize_message, unwrap, wanted
from tests import newsletters as nl

NOW = datetime(2026, 11, 30, 7, 15, tzinfo=UTC)


def test_substack_post_multipart_alternative_quoted_printable() -> None:
    item = normalize_message(nl.substack(NOW, n=3))
    assert item.key == "mid:20261130.3.teachinglab@substack.com"
    assert item.kind == "status"
    assert item.title == "Exit tickets, week 3 ✏️"  # RFC 2047, UTF-8
    assert item.author.name == "Teaching Lab — Ana Ruiz"
    assert item.author.url == "mailto:teachinglab@substack.com"
    assert item.published == NOW  # the Date header
    # the HTML part won over the text part, and it is sanitized
    assert "<style" not in item.html and "<table" in item.html and "Georgia" not in item.html
    assert "Café talk at its best." in item.text
    # the web version is the item's address; the JWT redirect around it is gone
    assert item.url == "https://teachinglab.substack.com/p/exit-tickets-week-3"
    # the story it shares: the first content link, unwrapped from Substack's redirect,
    # without utm_* (not "View in browser", not its own post, not the home page)
    assert item.link == "https://www.edutopia.org/article/exit-tickets-that-work"
    assert 'href="https://journals.example.edu/papers/retrieval-practice-2026"' in item.html
    assert "substack.com/redirect/2/eyJ" not in item.html


def test_tracking_pixels_and_hidden_preheaders_are_dropped() -> None:
    item = normalize_message(nl.substack(NOW))
    assert "eotrx.substackcdn.com" not in item.html and "<img" not in item.html
    assert "Three exit tickets I keep coming back to" not in item.text  # display:none preheader
    latin = normalize_message(nl.mailchimp_latin1(NOW))
    assert "track/open.php" not in latin.html
    assert "cid:" not in latin.html  # the inline logo is a part of the message, not a URL


def test_list_headers_are_kept_at_the_foot_of_the_item() -> None:
    item = normalize_message(nl.substack(NOW))
    assert item.text.endswith(
        "List: <teachinglab.substack.com>\nUnsubscribe: "
        "https://teachinglab.substack.com/action/disable_email?token=abc · "
        "mailto:unsubscribe+abc@substack.com")
    assert ("list_id", "teachinglab.substack.com") in item.extra
    assert ("list_unsubscribe", ("https://teachinglab.substack.com/action/disable_email?token=abc",
                                 "mailto:unsubscribe+abc@substack.com")) in item.extra


def test_latin1_base64_html_in_multipart_related() -> None:
    item = normalize_message(nl.mailchimp_latin1(NOW))
    # ISO-8859-1 headers and body; the 0x96 that Windows writes for "–" read as Windows does
    assert item.title == "Évaluer autrement – la lettre du 30 novembre"
    assert item.author.name == "Le Café pédagogique"
    assert "Évaluer autrement : lire l'article." in item.text
    # Outlook safelinks and Google redirects unwrapped; Mailchimp's click token cannot be,
    # and is never taken for the story
    assert item.link == "https://www.cafepedagogique.net/2026/11/30/evaluer-autrement"
    assert 'href="https://journals.example.edu/papers/retrieval-practice-2026"' in item.html
    assert "list-manage.com/track/click" in item.html
    assert "List: Le Cafe pedagogique <lettre.cafepedagogique.net>" in item.text


def test_plain_text_windows_1252_base64() -> None:
    item = normalize_message(nl.buttondown_cp1252(NOW))
    assert item.html == ""
    assert item.text.startswith("Hi all — this week’s “one thing”:")
    assert item.author.name == "Sam's Science Notes"
    assert item.link == "https://www.edutopia.org/article/exit-tickets-that-work"


def test_a_message_without_message_id_is_keyed_by_its_headers_within_its_source() -> None:
    a = normalize_message(nl.no_message_id(NOW), scope="src1")
    assert a.key.startswith("mail:src1:")
    assert a.key == normalize_message(nl.no_message_id(NOW), scope="src1").key
    assert a.key != normalize_message(nl.no_message_id(NOW), scope="src2").key


def test_unwrap_click_tracking() -> None:
    target = "https://www.example.org/a/b?x=1"
    assert unwrap(nl.substack_redirect(target)) == target
    assert unwrap("https://www.google.com/url?q=https%3A%2F%2Fwww.example.org%2Fa%2Fb%3Fx%3D1"
                  "&sa=D") == target
    assert unwrap("https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2F"
                  "www.example.org%2Fa%2Fb%3Fx%3D1&data=05") == target
    # wrapped twice: a safelink around a tracker's ?redirect=
    inner = "https://click.example-esp.com/c?redirect=https%3A%2F%2Fwww.example.org%2Fa%2Fb%3Fx%3D1"
    from urllib.parse import quote

    assert unwrap("https://eur03.safelinks.protection.outlook.com/?url=" + quote(inner, safe="")) == target
    # nothing recoverable: left as it is
    opaque = "https://x.us1.list-manage.com/track/click?u=1a2b&id=3c4d&e=5e6f"
    assert unwrap(opaque) == opaque
    assert unwrap("https://blog.example/post?u=123") == "https://blog.example/post?u=123"


def test_envelope_and_filters() -> None:
    env = envelope(nl.mailchimp_latin1(NOW))
    assert (env.message_id, env.sender, env.list_id) == (
        "c8f2a1b7e9.20261130@mail.cafepedagogique.net", "lettre@cafepedagogique.net",
        "lettre.cafepedagogique.net")
    assert env.date == NOW
    assert wanted(env, (), ())
    assert wanted(env, ("lettre@cafepedagogique.net",), ())
    assert wanted(env, ("@cafepedagogique.net",), ())
    assert not wanted(env, ("@pedagogique.net",), ())  # a domain, not a suffix of one
    assert wanted(env, ("nobody@example.org",), ("lettre.cafepedagogique.net",))
    assert not wanted(envelope(nl.personal(NOW)), ("@cafepedagogique.net",),
                      ("teachinglab.substack.com",))


def test_raw_utf8_headers_are_read_not_mangled() -> None:
    """RFC 6532 (and many small senders): UTF-8 written straight into the headers, 8bit body."""
    raw = ("From: Café Pédagogique <lettre@cafepedagogique.net>\r\n"
           "Subject: Évaluer autrement – 8 bits\r\n"
           "Message-ID: <8bit.1@cafepedagogique.net>\r\n"
           "Date: Mon, 30 Nov 2026 07:15:00 +0000\r\n"
           "List-Id: Café <lettre.cafepedagogique.net>\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n"
           "Bonjour – ça va ?\r\n").encode()
    item = normalize_message(raw)
    assert (item.title, item.author.name) == ("Évaluer autrement – 8 bits", "Café Pédagogique")
    assert item.text.startswith("Bonjour – ça va ?")
    assert envelope(raw).list_id == "lettre.cafepedagogique.net"
