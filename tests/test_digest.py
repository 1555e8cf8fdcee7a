"""`pln digest`: each section's content and order on a realistic inbox (built through the
store's API, dates relative to now), the "since the last digest" memory per output, filters,
bad input, and the terminal and Markdown renderings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from companion.credentials import Account
from companion.models import Author, ItemData
from companion.service import Companion

NOW = datetime.now(UTC).replace(microsecond=0)
ME = "@me@me.example"
PART_URI = "https://me.example/users/me/statuses/500"
PART_URL = "https://me.example/@me/500"
UNKNOWN = "https://elsewhere.example/users/zed/statuses/999"

CONFIG = """\
[[sources]]
url = "https://blog.example/feed"
name = "Dana teaches math"
topics = ["math"]
id = "blog01"

[[sources]]
url = "https://news.example/rss"
name = "Ed News"
topics = ["news"]
id = "news01"

[[sources]]
url = "https://lab.example/feed"
name = "Lab notes"
id = "lab001"

[[sources]]
tag = "edtech"
host = "social.example"
topics = ["edtech"]
id = "tag001"

[[sources]]
timeline = "home"
account = "me"
id = "home01"

[[sources]]
timeline = "mentions"
account = "me"
id = "ment01"

[[sources]]
user = "@dana@social.example"
id = "dana01"
"""


def ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def post(n: int, hours: float, title: str, host: str = "blog.example", **kw: Any) -> ItemData:
    url = f"https://{host}/posts/{n}"
    return ItemData(key=url, kind="feed", url=url, link=url, title=title,
                    author=Author("Dana Lee"), html=f"<p>{title}: the body.</p>",
                    published=ago(hours), **kw)


def toot(n: int, hours: float, who: str, text: str, **kw: Any) -> ItemData:
    user, host = who.lstrip("@").split("@")
    key = kw.pop("key", f"https://{host}/users/{user}/statuses/{n}")
    return ItemData(key=key, kind="status", url=f"https://{host}/@{user}/{n}",
                    author=Author(user.title(), who, f"https://{host}/@{user}"),
                    html=f"<p>{text}</p>", text=text, published=ago(hours), **kw)


A, B, C = "@alice@social.example", "@bob@other.example", "@carol@social.example"
D, E, F = "@dave@far.example", "@erin@social.example", "@frank@other.example"
G, H = "@gina@social.example", "@hank@far.example"
F1 = "https://blog.example/posts/1"
F2 = "https://blog.example/posts/2"

STATUSES = {  # name: (source ids, item)
    "S1": (("tag001", "home01"), toot(1, 1, A, f"Great read {F1}?utm_source=mastodon #edtech",
                                      link=f"{F1}?utm_source=mastodon", tags=("edtech",),
                                      boosted_by=(G,))),
    "S2": (("tag001",), toot(2, 3, B, f"This one {F1}", link=F1, tags=("edtech",))),
    "S3": (("home01",), toot(3, 4, C, f"Everyone should read {F1}/", link=f"{F1}/")),
    "S4": (("tag001",), toot(4, 6, E, f"Number talks! {F2}", link=F2, tags=("edtech",))),
    "S5": (("tag001",), toot(5, 7, F, f"Yes: {F2}", link=F2, tags=("edtech", "pln"))),
    "S6": (("tag001",), toot(6, 9, E, "Second post #edtech #pln", tags=("edtech", "PLN"))),
    "S7": (("home01",), toot(7, 12, B, "What is your favourite warm-up?", tags=("edtech",))),
    "S8": (("home01",), toot(8, 11, C, "Counting circles", reply_to="https://other.example/users/bob/statuses/7")),
    "S9": (("tag001",), toot(9, 10, D, "Estimation 180", tags=("edtech",),
                             reply_to="https://social.example/users/carol/statuses/8")),
    "S10": (("home01",), toot(10, 9.5, A, "Which one is different", reply_to="https://other.example/users/bob/statuses/7")),
    "S11": (("tag001",), toot(11, 2.5, E, "Replying to zed", tags=("pln",), reply_to=UNKNOWN)),
    "S12": (("tag001",), toot(12, 2.2, F, "Me too, zed", tags=("pln",), reply_to=UNKNOWN)),
    "S13": (("ment01",), toot(13, 15, G, "Same in my class!", reply_to=PART_URI)),
    "S14": (("ment01",), toot(14, 14, H, "@me have you seen this?")),
    "S15": (("home01",), toot(15, 16, ME, "My reflection", key=PART_URI)),
    "S16": (("tag001",), toot(16, 240, A, f"Old share {F1}", link=F1)),  # before the period
}
POSTS = {  # name: (source id, item)
    "F1": ("blog01", post(1, 2, "Fractions with paper strips")),
    "F2": ("blog01", post(2, 10, "Number talks")),
    **{f"F{n}": ("blog01", post(n, 20 + 10 * (n - 3), f"Post {n}")) for n in range(3, 8)},
    "F0": ("blog01", post(99, 300, "An old post")),
    "N1": ("news01", post(1, 5, "School budgets", host="news.example")),
    "L1": ("lab001", post(1, 8, "Lab note one", host="lab.example")),
}


def reflection(rid: str, hours: float, state: str, body: str, **kw: Any) -> dict[str, Any]:
    parts = kw.pop("parts", [])
    return {"id": rid, "created": ago(hours).strftime("%Y-%m-%dT%H:%M:%SZ"), "body": body,
            "text": body, "state": state, "tags": kw.pop("tags", []), "cites": kw.pop("cites", []),
            "reply_to": None, "visibility": "public", "cw": "",
            "accounts": [{"name": "me", "instance": "https://me.example", "handle": ME,
                          "state": state, "parts": parts}]}


@pytest.fixture
def inbox(pln_home: Path) -> dict[str, str]:
    """The inbox above; returns item name -> id."""
    pln_home.mkdir(parents=True)
    (pln_home / "config.toml").write_text(CONFIG)
    c = Companion()
    c.home.ensure()
    c.credentials.put_account(Account(name="me", instance="https://me.example", token="t0k",
                                      handle=ME))
    with c.writing("test"):
        for sid, data in POSTS.values():
            c._store_items(sid, (data,), NOW)
        for sids, data in STATUSES.values():
            for sid in sids:
                c._store_items(sid, (data,), NOW)
    ids = {name: c.item_by_key(data.key)["id"] for name, (_, data) in  # type: ignore[index]
           [*POSTS.items(), *STATUSES.items()]}
    c = Companion()
    with c.writing("test"):
        c.set_flags([ids["F1"], ids["S7"], ids["F0"]], starred=True)
        c.set_flags([ids["F3"], ids["N1"], ids["F0"]], read=True)
    c.home.ensure()
    c.journal.lock("test")
    for r in (
        reflection("r1sent01", 20, "sent", "Number talks changed my mornings.", tags=["edtech"],
                   cites=[{"item": ids["F2"], "kind": "feed", "url": F2, "title": "Number talks",
                           "author": "Dana Lee", "credit": "Dana teaches math"}],
                   parts=[{"n": 1, "text": "…", "state": "sent", "status_id": "500",
                           "url": PART_URL, "uri": PART_URI}]),
        reflection("r2old001", 24 * 30, "sent", "An old reflection."),
        reflection("r3fail01", 5, "failed", "Not posted yet."),
    ):
        c.journal.put(r)
    c.journal.close()
    return ids


def digest_json(cli: Any, *args: str) -> dict[str, Any]:
    return json.loads(cli("digest", "--format", "json", "--no-mark", *args).stdout)  # type: ignore[no-any-return]


def test_most_shared_links_with_who_shared_them_and_the_feed_entry(cli: Any, inbox: dict[str, str]) -> None:
    d = digest_json(cli, "--since", "7d")
    assert [(s["url"], s["people"], s["count"]) for s in d["most_shared"]] == [
        # people in the order they shared it (oldest first), boosters included, each once;
        # alice's share from ten days ago is outside the period
        (F1, [C, B, A, G], 4),
        (F2, [F, E], 2),
    ]
    first = d["most_shared"][0]
    assert first["title"] == "Fractions with paper strips"
    assert first["item"]["id"] == inbox["F1"]
    assert first["item"]["source"] == "Dana teaches math"
    assert first["statuses"] == [inbox["S3"], inbox["S2"], inbox["S1"]]


def test_new_from_sites_by_topic_then_site_newest_first_collapsed(cli: Any, inbox: dict[str, str]) -> None:
    d = digest_json(cli, "--since", "7d")
    groups = [(g["topic"], g["count"], [(s["label"], s["count"], [i["id"] for i in s["items"]], s["more"])
                                        for s in g["sources"]]) for g in d["new_from_sites"]]
    assert groups == [
        # seven entries collapse to the most shared two and the newest other one, in date
        # order, "and 4 more"; the post from 12 days ago is outside the period
        ("math", 7, [("Dana teaches math", 7, [inbox["F1"], inbox["F2"], inbox["F3"]], 4)]),
        ("news", 1, [("Ed News", 1, [inbox["N1"]], 0)]),
        (None, 1, [("Lab notes", 1, [inbox["L1"]], 0)]),
    ]
    assert d["new_from_sites"][0]["sources"][0]["items"][0]["shared_by"] == 4


def test_conversations_threads_hashtags_and_replies_to_you(cli: Any, inbox: dict[str, str]) -> None:
    conv = digest_json(cli, "--since", "7d")["conversations"]
    assert [(t["root"]["id"], t["participants"], t["posts"]) for t in conv["threads"]] == [
        # bob's question: four people over two levels of replies
        (inbox["S7"], [B, C, D, A], 4),
        # two replies to a status the inbox lacks are one thread (named by that status)
        (inbox["S11"], [E, F], 2),
        # your reflection's status and gina's reply
        (inbox["S15"], [ME, G], 2),
    ]
    # by distinct people (not you), not by volume; tags in any case are one tag
    assert [(h["tag"], h["people"], h["posts"]) for h in conv["hashtags"]] == [
        ("edtech", [B, D, E, F, A], 7),
        ("PLN", [E, F], 4),
    ]
    assert [(t["kind"], t["reflection"], t["item"]["id"]) for t in conv["to_you"]] == [
        ("mention", None, inbox["S14"]),
        ("reply", "r1sent01", inbox["S13"]),
    ]


def test_voices_most_active_and_not_followed_with_evidence(cli: Any, inbox: dict[str, str]) -> None:
    v = digest_json(cli, "--since", "7d")["voices"]
    assert [(x["handle"], x["posts"], x["boosts"]) for x in v["most_active"]] == [
        (E, 3, 0), (A, 2, 0), (B, 2, 0), (C, 2, 0), (F, 2, 0), (G, 1, 1), (D, 1, 0), (H, 1, 0),
    ]
    assert v["most_active"][0]["name"] == "Erin"
    # alice, bob and carol reach the home timeline on their own: followed. dave posted once
    # in the hashtag; you never count.
    assert [(x["handle"], x["posts"], x["tags"], [e["id"] for e in x["evidence"]])
            for x in v["not_followed"]] == [
        (E, 3, ["edtech", "pln"], [inbox["S11"], inbox["S4"], inbox["S6"]]),
        (F, 2, ["edtech", "pln"], [inbox["S12"], inbox["S5"]]),
    ]


def test_your_learning_reflections_starred_read(cli: Any, inbox: dict[str, str]) -> None:
    d = digest_json(cli, "--since", "7d")
    ln = d["learning"]
    assert [(r["id"], r["state"], r["url"], r["replies"]) for r in ln["reflections"]] == [
        ("r3fail01", "failed", "", 0),
        ("r1sent01", "sent", PART_URL, 1),
    ]
    assert ln["reflections"][1]["cites"] == [{"title": "Number talks", "url": F2}]
    assert [i["id"] for i in ln["starred"]] == [inbox["F1"], inbox["S7"]]
    assert ln["read"]["count"] == 2
    assert [i["id"] for i in ln["read"]["items"]] == [inbox["N1"], inbox["F3"]]
    assert d["totals"] == {"feed_items": 9, "sites": 3, "statuses": 15, "people": 8,
                           "reflections": 2}
    act = d["activity"]
    assert act["bin"] == "day" and len(act["labels"]) == 8
    assert (sum(act["feed"]), sum(act["status"]), sum(act["reflections"])) == (9, 15, 2)


def test_json_shape_is_stable(cli: Any, inbox: dict[str, str]) -> None:
    d = digest_json(cli, "--since", "7d")
    assert list(d) == ["version", "generated", "period", "filters", "totals", "activity",
                       "most_shared", "new_from_sites", "conversations", "voices", "learning"]
    assert d["version"] == 1
    assert list(d["most_shared"][0]["item"]) == [
        "id", "kind", "title", "summary", "cw", "url", "published", "author", "source", "tags",
        "shared_by", "boosts", "read", "starred"]
    assert list(d["conversations"]) == ["threads", "hashtags", "to_you"]
    assert list(d["voices"]) == ["most_active", "not_followed"]
    assert list(d["learning"]) == ["reflections", "starred", "read"]


def test_filters_topic_and_source(cli: Any, inbox: dict[str, str]) -> None:
    d = digest_json(cli, "--since", "7d", "--topic", "MATH")
    assert d["filters"] == {"topic": "math", "source": None}
    assert [g["topic"] for g in d["new_from_sites"]] == ["math"]
    assert d["totals"]["statuses"] == 0 and d["most_shared"] == []
    d = digest_json(cli, "--since", "7d", "--source", "tag0")
    assert d["filters"] == {"topic": None, "source": "tag001"}
    assert d["new_from_sites"] == [] and d["totals"]["statuses"] == 8
    assert [s["people"] for s in d["most_shared"]] == [[B, A, G], [F, E]]


@pytest.mark.parametrize(("args", "message"), [
    (["--topic", "cooking"], "no source has the topic 'cooking'"),
    (["--source", "zzzz"], "no source with the id, SPEC or name 'zzzz'"),
    (["--since", "soon"], "bad --since 'soon'"),
    (["--since", "1d", "--until", "2d"], "bad --since '1d': it is not before the end"),
    (["--format", "pdf"], "bad --format 'pdf': use text, md, html or json"),
    (["-o", "/dev/null/digest.html"], "cannot write /dev/null/digest.html"),
])
def test_bad_input_is_one_line_and_exit_2(cli: Any, inbox: dict[str, str], pln_home: Path,
                                          args: list[str], message: str) -> None:
    r = cli("digest", *args, code=2)
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (pln_home / "digest.json").exists()  # nothing remembered


def test_until_a_date_includes_that_day(cli: Any, inbox: dict[str, str]) -> None:
    day = (NOW - timedelta(days=5)).strftime("%Y-%m-%d")
    d = digest_json(cli, "--since", "2000-01-01", "--until", day)
    assert d["period"]["until"] == (NOW - timedelta(days=4)).strftime("%Y-%m-%dT00:00:00Z")
    # 25 years: one bin per month
    assert d["activity"]["bin"] == "month"
    assert [i["id"] for g in d["new_from_sites"] for s in g["sources"] for i in s["items"]] == [inbox["F0"]]


# ----- since the last digest --------------------------------------------------------------------


def marks(pln_home: Path) -> dict[str, str]:
    return orjson.loads((pln_home / "digest.json").read_bytes())["marks"]  # type: ignore[no-any-return]


def test_since_last_digest_is_remembered_per_output(cli: Any, inbox: dict[str, str], pln_home: Path,
                                                    tmp_path: Path) -> None:
    # the first digest covers the last 7 days, and remembers where it ended
    first = json.loads(cli("digest", "--format", "json").stdout)
    assert first["period"]["since_last_digest"] is False
    assert first["totals"]["feed_items"] == 9
    assert marks(pln_home) == {"terminal": first["period"]["until"]}

    # pretend it ran 2h45 ago: the next one starts there
    three = (NOW - timedelta(hours=2.75)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (pln_home / "digest.json").write_bytes(orjson.dumps({"version": 1, "marks": {"terminal": three}}))
    second = json.loads(cli("digest", "--format", "json").stdout)
    assert second["period"]["since"] == three and second["period"]["since_last_digest"] is True
    # since then alice shared F1 and gina boosted her: two people
    assert [(s["url"], s["people"]) for s in second["most_shared"]] == [(F1, [A, G])]
    assert [i["id"] for g in second["new_from_sites"] for s in g["sources"] for i in s["items"]] == [inbox["F1"]]
    assert sorted(i["id"] for i in [t["root"] for t in second["conversations"]["threads"]]) == [inbox["S11"]]
    assert marks(pln_home)["terminal"] == second["period"]["until"]

    # a file is another output, with its own mark: its first digest covers 7 days
    out = tmp_path / "week.json"
    assert cli("digest", "-o", str(out)).stdout == ""
    in_file = json.loads(out.read_text())  # the format comes from the extension
    assert in_file["period"]["since_last_digest"] is False
    assert in_file["totals"]["feed_items"] == 9
    assert set(marks(pln_home)) == {"terminal", "file"}

    # --no-mark leaves the marks alone; an explicit --since still moves them forward
    before = marks(pln_home)
    cli("digest", "--no-mark")
    cli("digest", "-o", str(tmp_path / "x.md"), "--no-mark")
    assert marks(pln_home) == before
    cli("digest", "--since", "30d", "--until", "1d")
    assert marks(pln_home) == before  # a period that ended earlier never moves a mark back


def test_an_unreadable_mark_file_starts_afresh(cli: Any, inbox: dict[str, str], pln_home: Path) -> None:
    (pln_home / "digest.json").write_text("{not json")
    d = json.loads(cli("digest", "--format", "json").stdout)
    assert d["period"]["since_last_digest"] is False
    assert marks(pln_home) == {"terminal": d["period"]["until"]}


def test_an_empty_home_gets_an_empty_digest(cli: Any, pln_home: Path) -> None:
    d = json.loads(cli("digest", "--format", "json", "--no-mark").stdout)
    assert d["totals"] == {"feed_items": 0, "sites": 0, "statuses": 0, "people": 0, "reflections": 0}
    assert "nothing new from the sites you follow" in cli("digest", "--no-mark").stdout


# ----- renderings -------------------------------------------------------------------------------


def test_terminal_digest(cli: Any, inbox: dict[str, str]) -> None:
    text = cli("digest", "--since", "7d", "--no-mark").stdout
    lines = text.splitlines()
    assert lines[0].startswith("pln digest · ") and lines[0].endswith(" UTC")
    assert lines[1] == ("in this period: 9 new entries from 3 sites, 15 statuses from 8 people, "
                        "2 reflections")
    assert lines[2].startswith("entries  ") and lines[3].startswith("statuses ")
    i = lines.index("Most shared")
    assert lines[i + 1] == f"  1. Fractions with paper strips — Dana teaches math {inbox['F1']}"
    assert lines[i + 2] == f"     shared by 4: {C}, {B}, {A} +1"
    i = lines.index("New from followed sites")
    assert lines[i + 1: i + 4] == ["math (7)", "  Dana teaches math (7)",
                                   lines[i + 3]]
    assert lines[i + 3].startswith(f"    {inbox['F1']} ") and lines[i + 3].endswith(
        "Fractions with paper strips · shared by 4 ★")
    assert lines[i + 6] == "    and 4 more"
    assert "other sites (1)" in lines
    assert f"  ↩ {G} on r1sent01: Same in my class! {inbox['S13']}" in lines
    assert "  r3fail01" in text and "(failed)" in text
    assert "  read: 2 items" in lines


def test_markdown_digest(cli: Any, inbox: dict[str, str]) -> None:
    md = cli("digest", "--since", "7d", "--format", "md", "--no-mark").stdout
    assert md.startswith("# Digest: ")
    assert "## Most shared\n\n1. **[Fractions with paper strips](<https://blog.example/posts/1>)** — Dana teaches math · shared by 4:" in md
    assert "### math (7)\n\n**Dana teaches math** (7)\n\n- [Fractions with paper strips]" in md
    assert "- and 4 more" in md
    assert f"- {G.replace('.', '.')} replied to your reflection r1sent01: [Same in my class\\!](<https://social.example/@gina/13>)" in md
    assert "### Read (2)" in md


def test_replies_that_name_their_parent_by_status_id(cli: Any, pln_home: Path) -> None:
    """A reply whose parent was not in the same fetch carries the server's status id, not
    the parent's uri (sources/mastodon_items.py): it still joins its thread, and a reply to
    a reflection still counts."""
    pln_home.mkdir(parents=True)
    (pln_home / "config.toml").write_text(CONFIG)
    c = Companion()
    root_id = "113547000000000001"
    with c.writing("test"):
        c._store_items("home01", (
            toot(int(root_id), 5, B, "How do you start a lesson?"),
            toot(2, 4, C, "With a question", reply_to=root_id),
            toot(3, 3, D, "Silently", reply_to=f"https://other.example/users/bob/statuses/{root_id}"),
            toot(4, 2, G, "Loved this", reply_to="500"),
        ), NOW)
    c.home.ensure()
    c.journal.lock("test")
    c.journal.put(reflection("r1sent01", 20, "sent", "Notes.", parts=[
        {"n": 1, "state": "sent", "status_id": "500", "url": PART_URL, "uri": PART_URI}]))
    c.journal.close()
    d = digest_json(cli, "--since", "7d")
    assert [(t["participants"], t["posts"]) for t in d["conversations"]["threads"]] == [([B, C, D], 3)]
    assert [(t["kind"], t["reflection"]) for t in d["conversations"]["to_you"]] == [("reply", "r1sent01")]
    assert d["learning"]["reflections"][0]["replies"] == 1
