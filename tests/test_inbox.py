"""The inbox: listing, filters, search, show, triage, stories shared by the network,
terminal safety and retention — through the real CLI, with whole outputs compared."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from companion.models import Author, ItemData, Media
from companion.service import Companion

NOW = datetime.now(UTC).replace(microsecond=0)


def feed_item(n: int, hours: float, **kw) -> ItemData:  # type: ignore[no-untyped-def]
    url = kw.pop("url", f"https://blog.example/posts/{n}")
    return ItemData(
        key=url, kind="feed", url=url, link=url,
        title=kw.pop("title", f"Post number {n}"),
        author=Author(kw.pop("author", "Dana Lee")),
        html=kw.pop("html", f"<p>Body of post {n}.</p>"),
        text=kw.pop("text", f"Body of post {n}."),
        published=NOW - timedelta(hours=hours), **kw,
    )


def status(n: int, hours: float, who: str, text: str, **kw) -> ItemData:  # type: ignore[no-untyped-def]
    user, host = who.lstrip("@").split("@")
    return ItemData(
        key=f"https://{host}/users/{user}/statuses/{n}", kind="status",
        url=f"https://{host}/@{user}/{n}",
        author=Author(user.title(), who, f"https://{host}/@{user}"),
        html=f"<p>{text}</p>", text=text, published=NOW - timedelta(hours=hours), **kw,
    )


@pytest.fixture
def home(pln_home: Path) -> Companion:
    """An inbox with two feeds' items and some statuses, sources in config.toml."""
    pln_home.mkdir(parents=True)
    (pln_home / "config.toml").write_text(
        '[[sources]]\nurl = "https://blog.example/feed"\nname = "Dana\'s blog"\ntopics = ["math"]\nid = "blog01"\n\n'
        '[[sources]]\nurl = "https://news.example/rss"\nname = "Ed News"\ntopics = ["news"]\nid = "news01"\n\n'
        '[[sources]]\ntag = "edtech"\nhost = "social.example"\ntopics = ["edtech"]\nid = "tag001"\n'
    )
    c = Companion()
    with c.writing("test"):
        c._store_items("blog01", (
            feed_item(1, 2, title="Fractions with paper strips", tags=("math", "fractions")),
            feed_item(2, 30, title="Élèves et évaluation formative", text="Une réflexion sur l'ÉVALUATION."),
            feed_item(3, 24 * 10, title="An old post"),
        ), NOW)
        c._store_items("news01", (
            feed_item(10, 5, url="https://news.example/a", title="School budgets", author="Ed News"),
        ), NOW)
        c._store_items("tag001", (
            status(100, 1, "@alice@social.example", "Great read https://blog.example/posts/1?utm_source=mastodon #edtech",
                   link="https://blog.example/posts/1?utm_source=mastodon", tags=("edtech",)),
            status(101, 3, "@bob@other.example", "This one, via Dana https://BLOG.example/posts/1/#top",
                   link="https://BLOG.example/posts/1/#top", tags=("edtech",),
                   media=(Media("https://other.example/m/1.png", "a paper strip model of 3/4"),)),
            status(102, 4, "@carol@social.example", "Everyone should read this, here is my long take on why " * 4
                   + "https://blog.example/posts/1", link="https://blog.example/posts/1"),
            status(103, 6, "@alice@social.example", "Unrelated musing about #edtech tools", tags=("edtech",),
                   cw="long rant"),
        ), NOW)
    return c


def ids_by_title(cli) -> dict[str, str]:  # type: ignore[no-untyped-def]
    rows = json.loads(cli("inbox", "--all", "--json").stdout)
    return {(r["title"] or r["text"][:20]): r["id"] for r in rows}


def test_listing_is_a_whole_table(cli, home: Companion) -> None:  # type: ignore[no-untyped-def]
    ids = [r["id"] for r in json.loads(cli("inbox", "--json").stdout)]
    expected = """\
id       age from                  title                                      tags
{0}  1h @alice@social.example Great read https://blog.example/posts/1?u… #edtech
{1}  2h Dana's blog           Fractions with paper strips                #math #fr… shared by 3
{2}  3h @bob@other.example    This one, via Dana https://BLOG.example/p… #edtech
{3}  4h @carol@social.example Everyone should read this, here is my lon…
{4}  5h Ed News               School budgets
{5}  6h @alice@social.example CW: long rant                              #edtech
{6}  1d Dana's blog           Élèves et évaluation formative
{7}  1w Dana's blog           An old post
""".format(*ids)
    # a feed item is shown by its source's name, with its tags and how many people shared
    # it; a status by its author; a content warning instead of the text it hides; the
    # title column gets the room first (40 of COLUMNS=100), the tags give way (issue 13)
    assert cli("inbox").stdout == expected
    assert cli("inbox", "--limit", "2").stdout == "".join(expected.splitlines(True)[:3])


def test_links_view_is_a_whole_table(cli, home: Companion) -> None:  # type: ignore[no-untyped-def]
    story = ids_by_title(cli)["Fractions with paper strips"]
    assert cli("inbox", "--links", "--since", "7d").stdout == (
        "people item     link                        shared by\n"
        f"     3 {story} Fractions with paper strips @alice@social.example, @bob@other.example, @carol@socia…\n"
    )


def test_show_is_a_whole_page(cli, home: Companion) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(cli("inbox", "--json").stdout)
    story = next(r for r in rows if r["title"] == "Fractions with paper strips")
    when = story["published"].replace("T", " ").replace("Z", " UTC")
    assert cli("show", story["id"]).stdout == (
        "Fractions with paper strips\n"
        f"Dana Lee · {when} · Dana's blog\n"
        "https://blog.example/posts/1\n"
        "\n"
        "Body of post 1.\n"
        "\n"
        "shared by 3: @carol@social.example, @bob@other.example, @alice@social.example\n"
    )


def test_json_items_have_the_product_shape(cli, home: Companion) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(cli("inbox", "--all", "--json").stdout)
    assert len(rows) == 8
    keys = {"id", "kind", "sources", "url", "title", "author", "text", "published", "tags", "read",
            "starred", "shared_by", "boosted_by", "reply_to", "media"}
    assert all(keys <= set(r) for r in rows)
    assert [r["published"] for r in rows] == sorted((r["published"] for r in rows), reverse=True)
    story = next(r for r in rows if r["title"] == "Fractions with paper strips")
    assert story["shared_by"] == ["@carol@social.example", "@bob@other.example", "@alice@social.example"]
    assert story["author"] == {"name": "Dana Lee", "handle": "", "url": ""}
    bob = next(r for r in rows if r["author"]["handle"] == "@bob@other.example")
    assert bob["media"] == [{"url": "https://other.example/m/1.png", "alt": "a paper strip model of 3/4"}]
    assert bob["published"].endswith("Z")


def test_filters_combine(cli, home: Companion) -> None:  # type: ignore[no-untyped-def]
    def titles(*args: str) -> list[str]:
        return [r["title"] or r["author"]["handle"] for r in json.loads(cli("inbox", "--json", *args).stdout)]

    assert titles("--source", "blog01") == ["Fractions with paper strips", "Élèves et évaluation formative", "An old post"]
    assert titles("--source", "blog0", "--since", "1d") == ["Fractions with paper strips"]
    assert titles("--topic", "math", "--tag", "fractions") == ["Fractions with paper strips"]
    assert titles("--topic", "edtech", "--limit", "2") == ["@alice@social.example", "@bob@other.example"]
    assert titles("--tag", "#EdTech", "--search", "musing") == ["@alice@social.example"]
    assert titles("--since", (NOW - timedelta(days=2)).strftime("%Y-%m-%d"), "--source", "news01") == ["School budgets"]
    assert "no source has the topic 'cooking'" in cli("inbox", "--topic", "cooking", code=2).stderr
    assert "bad --since" in cli("inbox", "--since", "soon", code=2).stderr


def test_search_ignores_case_and_accents(cli, home: Companion) -> None:  # type: ignore[no-untyped-def]
    def found(q: str) -> list[str]:
        return [r["title"] for r in json.loads(cli("inbox", "--all", "--json", "--search", q).stdout)]

    assert found("eleves evaluation") == ["Élèves et évaluation formative"]
    assert found("ÉLÈVES") == ["Élèves et évaluation formative"]
    assert found("réflexion") == ["Élèves et évaluation formative"]  # in the text
    assert found("PAPER strips") == ["Fractions with paper strips"]
    assert found("dana lee fractions") == ["Fractions with paper strips"]  # author + title
    assert found("paper elephants") == []
    assert cli("inbox", "--search", "paper elephants").stdout == (
        "no items match (unread only: add --all for read items)\n")


def test_read_star_and_plain_shares(cli, home: Companion) -> None:  # type: ignore[no-untyped-def]
    ids = ids_by_title(cli)
    story = ids["Fractions with paper strips"]
    cli("read", story[:5])
    unread = {r["author"]["handle"] or r["title"] for r in json.loads(cli("inbox", "--json").stdout)}
    # alice and bob only shared the link: read with the story; carol wrote a long take: still unread
    assert "@alice@social.example" in unread  # her other, unrelated status
    assert "@bob@other.example" not in unread
    assert "@carol@social.example" in unread
    assert "Fractions with paper strips" not in unread
    cli("unread", story)
    assert "no item with id 'zzzz'" in cli("star", story, "zzzz", code=2).stderr
    assert json.loads(cli("inbox", "--starred", "--json").stdout) == []  # nothing changed
    r = cli("star", story, code=0)
    assert r.stdout.strip() == f"starred: {story}"
    starred = json.loads(cli("inbox", "--starred", "--json").stdout)
    assert [s["id"] for s in starred] == [story]
    cli("unstar", story)
    assert json.loads(cli("inbox", "--starred", "--json").stdout) == []


def test_read_all_with_filters(cli, home: Companion) -> None:  # type: ignore[no-untyped-def]
    r = cli("read", "--all", "--source", "tag0")
    assert r.stdout.strip() == "marked 4 items read"
    left = json.loads(cli("inbox", "--json").stdout)
    assert {x["kind"] for x in left} == {"feed"} and len(left) == 4


def test_show_renders_the_whole_item(cli, home: Companion) -> None:  # type: ignore[no-untyped-def]
    ids = ids_by_title(cli)
    story = ids["Fractions with paper strips"]
    out = cli("show", story).stdout
    assert out.splitlines()[0] == "Fractions with paper strips"
    assert out.splitlines()[1].startswith("Dana Lee · ") and out.splitlines()[1].endswith(" UTC · Dana's blog")
    assert "https://blog.example/posts/1" in out.splitlines()[2]
    assert "Body of post 1." in out
    assert "shared by 3: @carol@social.example, @bob@other.example, @alice@social.example" in out
    assert json.loads(cli("show", story, "--json").stdout)["read"] is True
    bob = next(r for r in json.loads(cli("inbox", "--all", "--json").stdout)
               if r["author"]["handle"] == "@bob@other.example")
    out = cli("show", bob["id"], "--no-mark").stdout
    assert "[media 1] https://other.example/m/1.png — a paper strip model of 3/4" in out
    assert f"story: {story} Fractions with paper strips" in out
    assert bob["read"] is True  # a plain share: read along with its story
    carol = next(r for r in json.loads(cli("inbox", "--json").stdout)
                 if r["author"]["handle"] == "@carol@social.example")
    assert json.loads(cli("show", carol["id"], "--json", "--no-mark").stdout)["read"] is False
    assert json.loads(cli("show", carol["id"], "--json").stdout)["read"] is True
    cw = next(r for r in json.loads(cli("inbox", "--all", "--json").stdout) if r["cw"])
    lines = cli("show", cw["id"]).stdout.splitlines()
    assert lines.index("CW: long rant") < lines.index("Unrelated musing about #edtech tools")
    assert "no item with id 'zzzz'" in cli("show", "zzzz", code=2).stderr


def test_links_ranks_what_the_network_reads(cli, home: Companion) -> None:  # type: ignore[no-untyped-def]
    ids = ids_by_title(cli)
    rows = json.loads(cli("inbox", "--links", "--since", "7d", "--json").stdout)
    assert rows[0]["url"].startswith("https://blog.example/posts/1")
    assert rows[0]["count"] == 3 and rows[0]["in_feed"] and rows[0]["item"] == ids["Fractions with paper strips"]
    assert rows[0]["title"] == "Fractions with paper strips"
    out = cli("inbox", "--links", "--since", "7d").stdout.splitlines()
    assert out[0].split() == ["people", "item", "link", "shared", "by"]
    assert out[1].split()[:3] == ["3", ids["Fractions with paper strips"], "Fractions"]
    assert "@carol@social.example, @bob@other.example, @alice@…" in out[1] or "+" in out[1] or "@alice" in out[1]


HOSTILE = "Hi \x1b]52;c;ZXZpbA==\x07there \x1b[2J\x1b[31mred\u202eevil [bold]markup[/bold] \x9b2J"


def test_hostile_text_never_reaches_the_terminal(cli, home: Companion) -> None:  # type: ignore[no-untyped-def]
    with home.writing("test"):
        home._store_items("tag001", (
            status(200, 0.5, "@mallory@evil.example", HOSTILE, cw="\x1b[5mblink", tags=("x\x1b[2J",)),
            feed_item(20, 0.2, title=HOSTILE, text=HOSTILE, author="\x1b]8;;https://evil\x07Mallory"),
        ), NOW)
    outputs = [cli("inbox").stdout]
    for r in json.loads(cli("inbox", "--json").stdout)[:2]:
        outputs.append(cli("show", r["id"], "--no-mark").stdout)
    outputs.append(cli("inbox", "--links").stdout)
    for o in outputs:
        for bad in ("\x1b", "\x07", "\u202e", "\x9b"):
            assert bad not in o
    assert "[bold]markup[/bold]" in outputs[1] or "[bold]markup[/bold]" in outputs[2]
    # JSON keeps the data as it came (escaped by JSON, not interpreted)
    raw = cli("inbox", "--json").stdout
    assert "\\u001b]52" in raw and "\x1b" not in raw


def test_prune_keeps_starred_and_cited(cli, home: Companion, pln_home: Path) -> None:  # type: ignore[no-untyped-def]
    ids = ids_by_title(cli)
    old = ids["An old post"]
    with home.writing("test"):
        home._store_items("blog01", (feed_item(4, 24 * 40, title="Older, starred"),
                                     feed_item(5, 24 * 50, title="Older, cited"),
                                     feed_item(6, 24 * 60, title="Older, gone")), NOW)
    ids = ids_by_title(cli)
    cli("star", ids["Older, starred"])
    home.journal.lock("test")
    home.journal.put({"id": "r1", "created": NOW.isoformat(), "cites": [{"item": ids["Older, cited"]}]})
    home.journal.close()
    journal_before = (pln_home / "journal.json").read_bytes()
    r = cli("prune", "--older-than", "30d")
    assert r.stdout.startswith("pruned 1 item published before ")
    left = ids_by_title(cli)
    assert "Older, gone" not in left and {"Older, starred", "Older, cited", "An old post"} <= set(left)
    cli("prune", "--older-than", "5d")
    left = ids_by_title(cli)
    assert old not in left.values() and {"Older, starred", "Older, cited"} <= set(left)
    assert (pln_home / "journal.json").read_bytes() == journal_before
