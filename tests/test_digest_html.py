"""The HTML digest is one self-contained, valid page (html5lib, strict), with no external
reference and no script; hostile remote content is escaped in HTML and Markdown and inert in
the terminal."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import html5lib
import pytest

from companion.credentials import Account
from companion.models import Author, ItemData
from companion.service import Companion
from tests.test_digest import CONFIG, ME, NOW, PART_URI, PART_URL, inbox, reflection  # noqa: F401

SCRIPT = '<script>alert("title")</script>'
OSC8 = "\x1b]8;;https://evil.example/\x07click me\x1b]8;;\x07"
HOSTILE_TITLE = (f"{SCRIPT} \x1b[2J\x1b[31mred\x1b[0m {OSC8} [bold red]boom[/] **md** "
                 "[x](javascript:alert(1)) \u202eevil\u202c &amp; </title>")
HOSTILE_HTML = ('<p>Nice! <img src="https://tracker.example/p.gif" alt="t"> '
                '<script>alert("body")</script><a href="javascript:alert(2)">js</a> '
                '<a href="https://ok.example/read">read</a> <b onclick="x()">bold</b></p>')

# Elements that fetch something when a page is shown, or run something.
RESOURCE_TAGS = {"script", "link", "img", "iframe", "frame", "object", "embed", "video", "audio",
                 "source", "track", "image", "use", "base", "form", "input", "picture", "portal"}


@pytest.fixture
def hostile(pln_home: Path) -> dict[str, str]:
    """An inbox whose remote strings try every trick."""
    pln_home.mkdir(parents=True)
    (pln_home / "config.toml").write_text(
        CONFIG.replace('name = "Lab notes"', 'name = "Lab <img src=https://t.example/x.gif> \\u001b[31m"'))
    c = Companion()
    c.home.ensure()
    c.credentials.put_account(Account(name="me", instance="https://me.example", token="t0k", handle=ME))
    evil = "@evil@bad.example"
    with c.writing("test"):
        c._store_items("lab001", (
            ItemData(key="https://lab.example/1", kind="feed", url="javascript:alert(1)",
                     link="https://lab.example/1", title=HOSTILE_TITLE, author=Author("x"),
                     html=f"<p>{SCRIPT}</p>", published=NOW - timedelta(hours=1)),
            ItemData(key="https://lab.example/2", kind="feed", url="https://lab.example/2",
                     title="A" * 400, author=Author("x"),  # one unbroken word: must not overflow
                     published=NOW - timedelta(hours=2)),
        ), NOW)
        c._store_items("ment01", (
            ItemData(key="https://bad.example/users/evil/statuses/1", kind="status",
                     url="https://bad.example/@evil/1",
                     author=Author(f"\x1b[5m{SCRIPT}</title>", evil, "javascript:alert(3)"),
                     html=HOSTILE_HTML, text="Nice! [bold]x[/bold] \x1b[31mred",
                     tags=("<b>tag</b>",), reply_to=PART_URI, cw="",
                     published=NOW - timedelta(hours=3)),
            ItemData(key="https://bad.example/users/evil/statuses/2", kind="status",
                     url="https://bad.example/@evil/2", author=Author("Evil", evil),
                     text=HOSTILE_TITLE, tags=("<b>tag</b>",), cw=SCRIPT,
                     published=NOW - timedelta(hours=4)),
        ), NOW)
    c.journal.lock("test")
    c.journal.put(reflection("r1sent01", 20, "sent", f"My notes {SCRIPT}",
                             parts=[{"n": 1, "state": "sent", "url": PART_URL, "uri": PART_URI}]))
    c.journal.close()
    return {"evil": evil}


def parse_strict(html: str) -> Any:
    """html5lib's tree; any parse error (bad nesting, stray control characters…) raises."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)


def assert_self_contained(tree: Any) -> None:
    """No element that fetches or runs anything; links only to http(s); no CSS that loads."""
    for el in tree.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        assert tag.split("}")[-1] not in RESOURCE_TAGS, tag
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), (tag, name)
            if name in ("src", "srcset", "poster", "data", "background", "xlink:href"):
                raise AssertionError(f"{tag} has {name}={value!r}")
            if name == "href":
                assert tag == "a", tag
                assert value.startswith(("https://", "http://", "mailto:")), value
            if name == "style":
                assert "url(" not in value and "http" not in value
        if tag == "meta":
            assert "http-equiv" not in el.attrib
        if tag == "style":
            css = el.text or ""
            assert "url(" not in css and "@import" not in css and "http" not in css


def test_html_is_valid_self_contained_and_escaped(cli: Any, hostile: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "digest.html"
    cli("digest", "--since", "7d", "-o", str(out))
    html = out.read_text(encoding="utf-8")
    tree = parse_strict(html)
    assert_self_contained(tree)
    assert "<script" not in html.lower()
    assert "javascript:" not in "".join(str(v) for el in tree.iter() for v in el.attrib.values())
    assert "\x1b" not in html and "\x07" not in html and "\u202e" not in html
    assert "tracker.example" not in html  # the reply's image is dropped, not shown
    assert "Lab &lt;img src=https://t.example/x.gif&gt;" in html  # a name is text
    text = "".join(tree.itertext())
    # remote markup is shown as the text it is
    assert SCRIPT in text and "[bold red]boom[/]" in text and "</title>" in text
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in html
    title = tree.find(".//title").text
    assert title.startswith("pln digest · ") and "<" not in title
    # the reply's HTML is sanitized: its safe link kept (rel added), its script, handler,
    # javascript: link and remote image gone
    links = {a.get("href"): a for a in tree.iter("a")}
    assert "https://ok.example/read" in links
    assert "noopener" in links["https://ok.example/read"].get("rel")
    assert not any(b.get("onclick") for b in tree.iter("b"))
    # the item whose URL is javascript: is listed without a link
    assert HOSTILE_TITLE.split(" ")[0] in text


def test_markdown_escapes_remote_markup(cli: Any, hostile: dict[str, str]) -> None:
    md = cli("digest", "--since", "7d", "--format", "md", "--no-mark").stdout
    assert "\x1b" not in md and "\x07" not in md and "\u202e" not in md
    assert "(<javascript" not in md and "](javascript" not in md  # never a link
    assert "\\<script\\>" in md and "\\*\\*md\\*\\*" in md and "\\[bold red\\]boom\\[/\\]" in md
    assert "<img" not in md.replace("\\<img", "")  # only as escaped text


def test_terminal_output_is_inert(cli: Any, hostile: dict[str, str]) -> None:
    text = cli("digest", "--since", "7d", "--no-mark").stdout
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    # rich markup in remote text is printed as it is, never interpreted
    assert "[bold red]boom[/]" in text
    assert "<script>alert" in text  # plain text in a terminal: harmless, shown as written
    lines = text.splitlines()
    reply = [ln for ln in lines if ln.startswith("  ↩ ")]
    assert len(reply) == 1 and reply[0].startswith(
        f"  ↩ {hostile['evil']} on r1sent01: Nice! [bold]x[/bold] red ")


def test_json_keeps_remote_strings_as_they_came(cli: Any, hostile: dict[str, str]) -> None:
    raw = cli("digest", "--since", "7d", "--format", "json", "--no-mark").stdout
    assert "\x1b" not in raw  # JSON-escaped
    d = json.loads(raw)
    titles = [i["title"] for g in d["new_from_sites"] for s in g["sources"] for i in s["items"]]
    assert HOSTILE_TITLE in titles


def test_remote_html_loses_images_and_scripts() -> None:
    from companion.digest.render_html import remote_html

    out = str(remote_html(HOSTILE_HTML + "\x1b[31m<iframe src='https://x.example'></iframe>"))
    assert out == ('<p>Nice!  <a rel="noopener noreferrer nofollow">js</a> '
                   '<a href="https://ok.example/read" rel="noopener noreferrer nofollow">read</a> '
                   '<b>bold</b></p>')
