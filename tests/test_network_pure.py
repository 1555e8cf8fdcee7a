"""The pure parts of issue 17 with plain data: discover's suggestions and their evidence,
the website links of a profile (with a real mastodon.social profile from the corpus), and
the read-marker rules (positions by time, never by id)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from companion.models import ItemData
from companion.network.discover import (
    Following,
    NetworkData,
    Person,
    SiteCheck,
    Suggested,
    discover,
)
from companion.network.markers import merged, newest, position_by_id, positions_of, read_up_to
from companion.network.websites import Website, websites
from companion.sources.mastodon_items import normalize_statuses
from companion.specs import parse_spec
from tests.conftest import CORPUS

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
HOME = parse_spec("home", account="me")
EDTECH = parse_spec("#edtech", account="me")
BLOG = parse_spec("https://blog.example/feed.xml", name="Blog", topics=["math"])
BOB = parse_spec("@bob@b.example")
SOURCES = [HOME, EDTECH, BLOG, BOB]


def status(rid: str, who: str, hour: int, tags: list[str], sources: list[str], *,
           day: int = 1, **extra: Any) -> dict[str, Any]:
    return {"id": rid, "kind": "status", "sources": sources,
            "published": f"2026-12-{day:02d}T{hour:02d}:00:00Z",
            "author": {"handle": who, "name": who.split("@")[1].title(), "url": ""},
            "tags": tags, "summary": f"post {rid}", "url": f"https://x.example/{rid}", **extra}


RECORDS = [
    status("r01", "@erin@e.example", 10, ["EdTech"], [EDTECH.id]),
    status("r02", "@erin@e.example", 10, ["pln", "mathchat"], ["zzzzzz"]),
    status("r03", "@frank@f.example", 11, ["edtech", "mathchat"], [EDTECH.id],
           link_key="blog.example/post-1"),
    status("r04", "@frank@f.example", 9, ["edtech"], [EDTECH.id]),
    status("r05", "@dan@d.example", 12, [], ["zzzzzz"], link_key="blog.example/post-1",
           boosted_by=["@gina@g.example"]),
    {"id": "r06", "kind": "feed", "sources": [BLOG.id], "published": "2026-12-01T08:00:00Z",
     "title": "Fractions", "tags": ["fractions"], "starred": True,
     "link": "https://blog.example/post-1", "link_key": "blog.example/post-1",
     "url": "https://blog.example/post-1"},
    status("r07", "@bob@b.example", 7, ["edtech"], [EDTECH.id]),  # followed: a source
    status("r08", "@bob@b.example", 6, ["edtech"], [EDTECH.id]),
    status("r09", "@carol@c.example", 7, ["edtech"], [EDTECH.id]),  # followed on the server
    status("r10", "@carol@c.example", 6, ["edtech"], [EDTECH.id]),
    status("r11", "@me@m.example", 7, ["edtech"], [EDTECH.id]),  # you
    status("r12", "@ME@m.example", 6, ["edtech"], [EDTECH.id]),
    status("r13", "@hank@h.example", 5, ["edtech"], [HOME.id]),  # in home unboosted: followed
    status("r14", "@hank@h.example", 4, ["edtech"], [EDTECH.id]),
    status("r15", "@ivy@i.example", 4, ["edtech"], [EDTECH.id], day=1),
    {**status("r16", "@ivy@i.example", 4, ["edtech"], [EDTECH.id]),
     "published": "2026-11-20T04:00:00Z"},  # before the period: ivy posted once in it
    status("r17", "@erin@e.example", 13, ["edtech"], [EDTECH.id]),
    status("r18", "@bob@b.example", 14, ["edtech", "fractions"], [EDTECH.id]),
    status("r19", "@lee@l.example", 3, ["edtech", "solo"], [EDTECH.id]),  # one voice: no
    status("r20", "@jo@j.example", 15, ["news"], ["zzzzzz"]),  # not about your topics
    status("r21", "@kim@k.example", 15, ["news"], ["zzzzzz"]),
]
SINCE = NOW - timedelta(days=7)


def data(**over: Any) -> NetworkData:
    base: dict[str, Any] = {
        "records": RECORDS,
        "sources": SOURCES,
        "me": frozenset({"@me@m.example"}),
        "following": Following(people=(Person("@carol@c.example"),), tags=("PLN",)),
        "suggested": [Suggested(Person("@dan@d.example", "Dan D"), "friends_of_friends"),
                      Suggested(Person("@zoe@z.example", "Zoe"), ""),
                      Suggested(Person("@carol@c.example", "Carol"), "")],
        "sites": [
            SiteCheck(Person("@carol@c.example", "Carol"), "Blog", "https://carol.example/",
                      "https://carol.example/feed.xml", "Carol's blog"),
            SiteCheck(Person("@hank@h.example"), "Site", "https://blog.example/",
                      "https://blog.example/feed.xml", "Blog"),  # already a source
            SiteCheck(Person("@zed@z.example"), "Home", "https://zed.example/", None),
            SiteCheck(Person("@amy@a.example"), "Blog", "https://carol.example/about",
                      "https://carol.example/feed.xml", "Carol's blog"),  # same feed, less active
        ],
    }
    base.update(over)
    return NetworkData(**base)


def test_people_scores_evidence_and_order_exactly() -> None:
    got = discover(data(), since=SINCE, until=NOW)
    rows = [(p.person.handle, p.score, p.tag_posts, p.tags, [e.id for e in p.posts],
             [(s.item, s.statuses) for s in p.starred_links], p.suggested, p.latest)
            for p in got.people]
    assert rows == [
        # 2 posts in your hashtags + a starred link (3)
        ("@frank@f.example", 5, 2, (("edtech", 2),), ["r03", "r04"],
         [("r06", ("r03",))], None, "2026-12-01T11:00:00Z"),
        # one post in #edtech is not "often"; shared the starred link (3) and suggested (1)
        ("@dan@d.example", 4, 0, (), [], [("r06", ("r05",))], "friends_of_friends",
         "2026-12-01T12:00:00Z"),
        # three posts: #edtech twice (any case), #pln (followed on the server) once
        ("@erin@e.example", 3, 3, (("edtech", 2), ("pln", 1)), ["r17", "r02", "r01"], [], None,
         "2026-12-01T13:00:00Z"),
        # boosted the starred link
        ("@gina@g.example", 3, 0, (), [], [("r06", ("r05",))], None, "2026-12-01T12:00:00Z"),
        # only the instance's suggestion: ranked last
        ("@zoe@z.example", 1, 0, (), [], [], "", None),
    ]
    dan = got.people[1].as_dict()
    assert dan == {
        "handle": "@dan@d.example", "name": "Dan", "url": "", "score": 4,
        "evidence": {"hashtag_posts": 0, "hashtags": [], "posts": [],
                     "starred_links": [{"url": "https://blog.example/post-1", "item": "r06",
                                        "title": "Fractions", "statuses": ["r05"]}],
                     "suggested_by_instance": True, "instance_reason": "friends_of_friends"},
        "latest": "2026-12-01T12:00:00Z", "command": "pln follow @dan@d.example",
    }


def test_hashtags_used_with_your_topics_exactly() -> None:
    got = discover(data(), since=SINCE, until=NOW)
    assert [t.as_dict() for t in got.hashtags] == [
        {"tag": "fractions", "score": 2, "latest": "2026-12-01T14:00:00Z",
         "command": "pln follow '#fractions'",
         "evidence": {"voices": ["@bob@b.example", "Blog"], "posts": 2,
                      "with_topics": [{"topic": "edtech", "posts": 1}, {"topic": "math", "posts": 1}],
                      "items": [{"id": "r18", "published": "2026-12-01T14:00:00Z", "title": "post r18",
                                 "url": "https://x.example/r18", "tags": ["edtech", "fractions"]},
                                {"id": "r06", "published": "2026-12-01T08:00:00Z", "title": "Fractions",
                                 "url": "https://blog.example/post-1", "tags": ["fractions"]}]}},
        {"tag": "mathchat", "score": 2, "latest": "2026-12-01T11:00:00Z",
         "command": "pln follow '#mathchat'",
         "evidence": {"voices": ["@frank@f.example", "@erin@e.example"], "posts": 2,
                      "with_topics": [{"topic": "edtech", "posts": 1}, {"topic": "pln", "posts": 1}],
                      "items": [{"id": "r03", "published": "2026-12-01T11:00:00Z", "title": "post r03",
                                 "url": "https://x.example/r03", "tags": ["edtech", "mathchat"]},
                                {"id": "r02", "published": "2026-12-01T10:00:00Z", "title": "post r02",
                                 "url": "https://x.example/r02", "tags": ["pln", "mathchat"]}]}},
    ]


def test_blogs_skip_followed_feeds_and_duplicates() -> None:
    got = discover(data(), since=SINCE, until=NOW)
    assert [b.as_dict() for b in got.blogs] == [{
        "feed": "https://carol.example/feed.xml", "title": "Carol's blog",
        "evidence": {"handle": "@carol@c.example", "name": "Carol", "url": "", "field": "Blog",
                     "website": "https://carol.example/", "statuses_in_period": 2},
        "command": "pln source add https://carol.example/feed.xml",
    }]


def test_without_the_server_only_sources_and_the_inbox_count() -> None:
    """No account (or a server that would not say): carol is no longer known as followed,
    #pln is not one of your hashtags, nothing is suggested by the instance."""
    got = discover(data(following=None, suggested=[], sites=[]), since=SINCE, until=NOW)
    assert [(p.person.handle, p.score, p.tags) for p in got.people] == [
        ("@frank@f.example", 5, (("edtech", 2),)),
        ("@dan@d.example", 3, ()),
        ("@gina@g.example", 3, ()),
        ("@erin@e.example", 2, (("edtech", 2),)),  # her #pln post no longer counts
        ("@carol@c.example", 2, (("edtech", 2),)),
    ]
    assert [t.tag for t in got.hashtags] == ["fractions"]  # #mathchat only went with #pln
    assert got.blogs == ()


def test_ordering_is_deterministic_whatever_the_input_order() -> None:
    a = discover(data(), since=SINCE, until=NOW).as_dict()
    b = discover(data(records=list(reversed(data().records)),
                      suggested=list(reversed(data().suggested)),
                      sites=list(reversed(data().sites))), since=SINCE, until=NOW).as_dict()
    assert a == b


def test_nothing_to_suggest_from_an_empty_inbox() -> None:
    got = discover(NetworkData(records=[], sources=[]), since=SINCE, until=NOW)
    assert got.as_dict() == {"version": 1, "since": "2026-11-24T18:00:00Z",
                             "until": "2026-12-01T18:00:00Z", "people": [], "hashtags": [],
                             "blogs": [], "notes": []}


# ----- discover's rules one at a time -------------------------------------------------------


def one(rid: str, who: str, hour: int, tags: list[str] | None, sources: list[str],
        **extra: Any) -> dict[str, Any]:
    rec = status(rid, who, hour, [], sources, **extra)
    rec["tags"] = tags
    return rec


def run(records: list[dict[str, Any]], **over: Any) -> Any:
    base: dict[str, Any] = {"records": records, "sources": SOURCES, "me": frozenset(),
                            "following": None, "suggested": [], "sites": []}
    return discover(NetworkData(**{**base, **over}), since=SINCE, until=NOW)


def test_the_limits_of_what_is_shown() -> None:
    many = [one(f"p{n:02d}x{k}", f"@u{n:02d}@x.example", 1 + k, ["edtech"], [EDTECH.id])
            for n in range(22) for k in range(2)]
    chatty = [one(f"c{k:02d}", "@chatty@x.example", 1, ["edtech"], [EDTECH.id], day=2 + k % 5)
              for k in range(11)]
    got = run(many + [{**r, "published": f"2026-11-{25 + int(r['id'][1:]) % 5}T01:00:00Z"}
                      for r in chatty])
    assert len(got.people) == 20  # MAX_PEOPLE
    top = got.people[0]
    assert top.person.handle == "@chatty@x.example" and top.tag_posts == 11
    assert len(top.posts) == 10  # EVIDENCE: the count is whole, the list is not
    tags = [one(f"t{n:02d}v{v}", f"@v{v}@x.example", 1, ["edtech", f"tag{n:02d}"], [EDTECH.id])
            for n in range(11) for v in range(2)]
    tags += [one(f"busy{k}", f"@w{k}@x.example", 2, ["edtech", "busy"], [EDTECH.id])
             for k in range(6)]
    got = run(tags)
    assert len(got.hashtags) == 10 and got.hashtags[0].tag == "busy"  # MAX_TAGS
    assert got.hashtags[0].posts == 6 and len(got.hashtags[0].evidence) == 5  # TAG_EVIDENCE


def test_handles_and_hashtags_compare_without_case() -> None:
    records = [one("a1", "@Amy@A.example", 1, ["EDTECH"], [EDTECH.id]),
               one("a2", "@amy@a.example", 2, ["#EdTech"], ["zzzzzz"]),
               one("m1", "@ME@m.example", 3, ["edtech"], [EDTECH.id]),
               one("m2", "@ME@m.example", 4, ["edtech"], [EDTECH.id]),
               one("f1", "@Fred@f.example", 3, ["edtech"], [EDTECH.id]),
               one("f2", "@Fred@f.example", 4, ["edtech"], [EDTECH.id]),
               one("h1", "@hal@h.example", 5, [], [HOME.id]),  # followed: in home, unboosted
               one("h2", "@HAL@h.example", 3, ["edtech"], [EDTECH.id]),
               one("h3", "@HAL@h.example", 4, ["edtech"], [EDTECH.id])]
    got = run(records, me=frozenset({"@Me@M.example"}), sources=[*SOURCES, parse_spec(
        "@Fred@F.example")], following=Following(tags=("#EdTech",)))
    assert [(p.person.handle, p.tag_posts) for p in got.people] == [("@amy@a.example", 2)]


def test_hashtags_compare_as_case_folded_words() -> None:
    recs = [one("t1", "@tia@t.example", 1, ["pln"], ["zzzzzz"]),
            one("t2", "@tia@t.example", 2, ["#Pln"], ["zzzzzz"]),
            one("u1", "@uma@u.example", 1, ["STRASSE"], ["zzzzzz"]),
            one("u2", "@uma@u.example", 2, ["#straße"], ["zzzzzz"]),
            one("x1", "@xav@x.example", 1, ["X"], ["zzzzzz"]),
            one("x2", "@xav@x.example", 2, ["#XAPI", "x"], ["zzzzzz"]),
            one("n1", "@nil@n.example", 1, ["#"], ["zzzzzz"]),
            one("n2", "@nil@n.example", 2, ["#", ""], ["zzzzzz"])]
    got = run(recs, sources=[*SOURCES, parse_spec("#PLN")],
              following=Following(tags=("Straße", "x", "xapi", "#")))
    assert {p.person.handle: p.tags for p in got.people} == {
        "@tia@t.example": (("pln", 2),), "@uma@u.example": (("strasse", 2),),
        "@xav@x.example": (("x", 2), ("xapi", 1))}


def test_ties_between_hashtags_and_topics_go_by_name() -> None:
    # (eight: a tie left in set order would come out sorted by chance once in 40,320 runs)
    four = ["delta", "alpha", "charlie", "bravo", "hotel", "golf", "india", "foxtrot"]
    recs = [one(f"d{k}", "@dee@d.example", 1 + k, four, ["zzzzzz"]) for k in range(2)]
    recs += [one(f"e{k}", f"@e{k}@e.example", 1 + k, ["echo", *four], ["zzzzzz"])
             for k in range(2)]
    got = run(recs, following=Following(tags=tuple(four)))
    assert got.people[0].tags == tuple((t, 2) for t in sorted(four))
    assert got.hashtags[0].tag == "echo"
    assert got.hashtags[0].topics == tuple((t, 2) for t in sorted(four))


def test_who_is_followed_and_who_is_you() -> None:
    records = [one("b1", "@bea@b.example", 5, [], [HOME.id], boosted_by=["@x@x.example"]),
               one("b2", "@bea@b.example", 3, ["edtech"], [EDTECH.id]),
               one("b3", "@bea@b.example", 4, ["edtech"], [EDTECH.id]),
               one("c1", "@cy@c.example", 3, ["edtech"], [EDTECH.id]),
               one("c2", "@Cy@c.example", 4, ["edtech"], [EDTECH.id])]
    # a boost in home is not its author's own status: bea is not followed for it
    got = run(records, following=Following(people=(Person("@CY@c.example"),), tags=None))
    assert [p.person.handle for p in got.people] == ["@bea@b.example"]


def test_the_period_includes_both_ends() -> None:
    at = [one("s", "@sam@s.example", 1, ["edtech"], [EDTECH.id]),
          one("u", "@sam@s.example", 1, ["edtech"], [EDTECH.id])]
    at[0]["published"], at[1]["published"] = "2026-11-24T18:00:00Z", "2026-12-01T18:00:00Z"
    assert [p.tag_posts for p in run(at).people] == [2]


def test_refs_title_and_defaults() -> None:
    recs = [one("r1", "@ann@a.example", 2, None, [EDTECH.id], title="\n  First line\nsecond\nthird",
                url=None),
            one("r2", "@ann@a.example", 1, ["edtech"], [EDTECH.id], summary="x" * 200),
            {**one("r3", "@ann@a.example", 3, ["edtech"], [EDTECH.id]), "summary": None}]
    person = run(recs).people[0]  # r1 has no tags: from the #edtech source all the same
    assert [(e.id, e.title, e.url, e.tags) for e in person.posts] == [
        ("r3", "", "https://x.example/r3", ("edtech",)),
        ("r1", "First line", "", ()),
        ("r2", "x" * 120, "https://x.example/r2", ("edtech",))]


def test_the_authors_a_record_may_lack() -> None:
    recs = [{**one("n1", "@nan@n.example", 1, ["edtech"], [EDTECH.id]), "author": None},
            {**one("n2", "@x@n.example", 1, ["edtech", "new"], [EDTECH.id]),
             "author": {"handle": None, "name": None, "url": None}},
            one("n3", "@ola@o.example", 2, ["edtech", "new"], [EDTECH.id]),
            one("n4", "@ola@o.example", 3, ["edtech"], [EDTECH.id],
                author={"handle": "@ola@o.example", "name": None, "url": "https://o.example/@ola"})]
    got = run(recs)
    assert [p.person.as_dict() for p in got.people] == [
        {"handle": "@ola@o.example", "name": "", "url": "https://o.example/@ola"}]
    assert got.hashtags == ()  # one voice: a status without a handle is nobody
    assert Person("@x").as_dict() == {"handle": "@x", "name": "", "url": ""}
    assert Suggested(Person("@x")).reason == "" and SiteCheck(Person("@x"), "", "", None).title == ""


def test_an_author_without_a_profile_url_has_none() -> None:
    recs = [one(f"p{k}", "@pat@p.example", 1 + k, ["edtech"], [EDTECH.id],
                author={"handle": "@pat@p.example", "name": "Pat"}) for k in range(2)]
    assert [p.person.as_dict() for p in run(recs).people] == [
        {"handle": "@pat@p.example", "name": "Pat", "url": ""}]


def test_someone_in_home_is_followed_in_any_case() -> None:
    recs = [one("h1", "@HAL@H.example", 5, [], [HOME.id]),  # home, unboosted: followed
            one("h2", "@hal@h.example", 3, ["edtech"], [EDTECH.id]),
            one("h3", "@hal@h.example", 4, ["edtech"], [EDTECH.id])]
    assert run(recs).people == ()


def test_a_tag_sources_own_tag_is_case_folded() -> None:
    strasse = parse_spec("#Straße")
    recs = [one(f"s{k}", f"@v{k}@v.example", 1 + k, ["velo"], [strasse.id]) for k in range(2)]
    got = run(recs, sources=[*SOURCES, strasse])
    assert [(h.tag, h.topics) for h in got.hashtags] == [("velo", (("strasse", 2),))]


def test_starred_links_shared_by_statuses_only() -> None:
    star = {"id": "s0", "kind": "feed", "sources": [BLOG.id], "published": "2026-12-01T01:00:00Z",
            "title": "T", "starred": True, "link_key": "k/1", "url": "https://k.example/1",
            "author": {"handle": "@blogger@k.example"}}
    echo = {**star, "id": "s1", "starred": False, "published": "2026-12-01T02:00:00Z"}
    share = one("s2", "@pia@p.example", 3, [], ["zzzzzz"], link_key="k/1")
    again = one("s3", "@Pia@p.example", 4, [], ["zzzzzz"], link_key="k/1")
    got = run([star, echo, share, again])
    assert [(p.person.handle, [(s.url, s.item, s.statuses) for s in p.starred_links])
            for p in got.people] == [
        ("@pia@p.example", [("https://k.example/1", "s0", ("s2", "s3"))])]  # a feed entry: none
    bare = {**star, "url": None}
    assert run([bare, share]).people[0].starred_links[0].url == ""
    linked = {**star, "link": "https://k.example/one"}
    assert run([linked, share]).people[0].starred_links[0].url == "https://k.example/one"


def test_a_suggestion_gives_a_name_never_takes_one() -> None:
    recs = [one("q1", "@quinn@q.example", 1, ["edtech"], [EDTECH.id], author={
                "handle": "@quinn@q.example", "name": "", "url": ""}),
            one("q2", "@quinn@q.example", 2, ["edtech"], [EDTECH.id], author={
                "handle": "@quinn@q.example", "name": "", "url": ""}),
            one("r1", "@rae@r.example", 1, ["edtech"], [EDTECH.id]),
            one("r2", "@rae@r.example", 2, ["edtech"], [EDTECH.id])]
    got = run(recs, suggested=[Suggested(Person("@QUINN@q.example", "Quinn"), ""),
                               Suggested(Person("@rae@r.example", "Other"), "")])
    people = {p.person.handle.casefold(): p for p in got.people}
    assert len(got.people) == 2 and people["@quinn@q.example"].score == 3
    assert people["@quinn@q.example"].person.name == "Quinn"
    assert people["@rae@r.example"].person.name == "Rae"
    assert people["@quinn@q.example"].as_dict()["evidence"]["instance_reason"] is None


def test_ties_rank_by_handle_then_by_name_of_the_tag() -> None:
    recs = [one(f"{h}{k}", f"@{h}@x.example", 1, ["edtech", "pln"] if k else ["pln", "edtech"],
                [EDTECH.id]) for h in ("Zed", "bob", "Amy") for k in range(2)]
    got = run(recs, suggested=[Suggested(Person("@Cat@x.example"), ""),
                               Suggested(Person("@abe@x.example"), "")],
              following=Following(tags=("pln",)))
    assert [p.person.handle for p in got.people] == [
        "@Amy@x.example", "@bob@x.example", "@Zed@x.example", "@abe@x.example", "@Cat@x.example"]
    assert got.people[0].tags == (("edtech", 2), ("pln", 2))
    assert got.people[0].as_dict()["evidence"]["hashtags"] == [
        {"tag": "edtech", "posts": 2}, {"tag": "pln", "posts": 2}]
    assert got.people[0].score == 2 and got.people[3].score == 1  # 0 points unless suggested


def test_hashtag_voices_and_their_topics() -> None:
    src = parse_spec("#maths@x.example")  # a tag source without topics of its own
    recs = [one("v1", "@ava@a.example", 3, ["fractions"], [src.id]),
            one("v2", "@ben@b.example", 2, ["fractions", "edtech"], [EDTECH.id]),
            one("v3", "@Me@M.example", 4, ["fractions", "edtech"], [EDTECH.id]),
            one("v4", "@q@q.example", 1, ["fractions", "edtech"], [EDTECH.id],
                author={"handle": "", "name": "Q", "url": ""}),
            one("v5", "@cal@c.example", 7, ["rare", "edtech"], [EDTECH.id]),  # newest
            {"id": "v6", "kind": "feed", "sources": ["gone01"], "published": "2026-12-01T06:00:00Z",
             "tags": ["fractions", "edtech"], "author": {"handle": ""}}]
    got = run(recs, sources=[*SOURCES, src], me=frozenset({"@ME@m.example"}))
    [tag] = got.hashtags
    assert (tag.tag, tag.voices, tag.topics) == (
        "fractions", ("gone01", "@ava@a.example", "@ben@b.example"),
        (("edtech", 2), ("maths", 1)))


def test_blogs_of_others_ranked_by_activity_then_handle() -> None:
    recs = [one("w1", "@Wes@w.example", 1, [], ["zzzzzz"])]
    sites = [SiteCheck(Person("@Me@m.example"), "Blog", "https://me.example/",
                       "https://me.example/feed"),
             SiteCheck(Person("@x@x.example"), "Blog", "https://x.example/", "ftp://bad/feed"),
             SiteCheck(Person("@Yan@y.example"), "Blog", "https://y.example/",
                       "https://y.example/feed"),
             SiteCheck(Person("@xia@x.example"), "Blog", "https://xia.example/",
                       "https://xia.example/feed"),
             SiteCheck(Person("@WES@w.example"), "Blog", "https://w.example/",
                       "https://w.example/feed")]
    got = run(recs, sites=sites, me=frozenset({"@ME@m.example"}))
    assert [(b.person.handle, b.activity) for b in got.blogs] == [
        ("@WES@w.example", 1), ("@xia@x.example", 0), ("@Yan@y.example", 0)]


# ----- websites of a profile ------------------------------------------------------------------


def _cassette_account(name: str, acct: str) -> dict[str, Any]:
    path = CORPUS / "mastodon-py-cassettes" / "tests" / "cassettes" / name
    for it in yaml.safe_load(path.read_text())["interactions"]:
        body = it["response"]["body"].get("string", "")
        body = body.decode() if isinstance(body, bytes) else body
        if f'"acct":"{acct}"' not in body:
            continue

        def walk(o: Any) -> dict[str, Any] | None:
            if isinstance(o, dict):
                if o.get("acct") == acct and o.get("fields"):
                    return o
                return next((f for f in map(walk, o.values()) if f), None)
            if isinstance(o, list):
                return next((f for f in map(walk, o) if f), None)
            return None

        found = walk(json.loads(body))
        if found:
            return found
    raise AssertionError(f"no {acct} in {name}")


def test_websites_of_a_real_mastodon_profile() -> None:
    """mastodon.social's @Mastodon as the server sent it: Homepage, Source Code (GitHub),
    Blog, Donate — HTML links with rel="me"."""
    acct = _cassette_account("test_timeline_disabled.yaml", "Mastodon")
    assert [f["name"] for f in acct["fields"]] == ["Homepage", "Source Code", "Blog", "Donate"]
    got = websites(acct["fields"], own_hosts=["mastodon.social"])
    assert got == (Website("Homepage", "https://joinmastodon.org"),
                   Website("Blog", "https://blog.joinmastodon.org"))


def test_websites_of_plain_text_fields_and_profiles_elsewhere() -> None:
    fields = [
        {"name": "Blog", "value": "https://dana.example/blog/?utm_source=masto"},
        {"name": "Also", "value": "see www.dana.example and https://dana.example/about"},
        {"name": "Fedi", "value": "https://other.social/@dana"},
        {"name": "Home", "value": '<a href="https://home.example/@dana">me</a>'},
        {"name": "Pronouns", "value": "she/her"},
        {"name": "Code", "value": "https://gist.github.com/dana"},
        {"name": "Bad", "value": '<a href="javascript:alert(1)">x</a>'},
        {"name": "Site", "value": '<a href="http://teach.example/">teach</a>'},
    ]
    assert websites(fields, own_hosts=["home.example"]) == (
        Website("Blog", "https://dana.example/blog/?utm_source=masto"),
        Website("Site", "http://teach.example/"),
    )


# ----- read markers: positions by time, never by id --------------------------------------------


def test_positions_order_by_time_never_by_id() -> None:
    # ids chosen so that string and number order both disagree with the timeline's order
    pos = {
        "a": ("ff", "2026-12-01T10:00:00.100000+00:00"),
        "b": ("1a0", "2026-12-01T10:00:00.200000+00:00"),
        "c": ("9", "2026-12-01T10:00:01+00:00"),
    }
    assert newest(pos, ["a", "b"]) == ("1a0", "2026-12-01T10:00:00.200000+00:00")
    assert newest(pos, ["c", "a"]) == ("9", "2026-12-01T10:00:01+00:00")
    assert newest(pos, ["x"]) is None
    assert read_up_to(pos, pos["b"][1], None) == ["a", "b"]
    assert read_up_to(pos, pos["c"][1], pos["a"][1]) == ["b", "c"]
    assert position_by_id(pos, "9") == pos["c"]
    assert position_by_id(pos, "10") is None


def test_merged_keeps_the_later_entry_and_the_newest_positions() -> None:
    old = {"a": ["1", "2026-12-01T10:00:00+00:00"], "b": ["2", "2026-12-01T11:00:00+00:00"]}
    new = {"a": ("7", "2026-12-01T12:00:00+00:00"),  # boosted later: its new place counts
           "b": ("0", "2026-12-01T09:00:00+00:00"),  # an older entry does not move it back
           "c": ("3", "2026-12-01T11:30:00+00:00")}
    assert merged(old, new) == {"a": ("7", "2026-12-01T12:00:00+00:00"),
                                "b": ("2", "2026-12-01T11:00:00+00:00"),
                                "c": ("3", "2026-12-01T11:30:00+00:00")}
    assert merged(old, new, keep=2) == {"a": ("7", "2026-12-01T12:00:00+00:00"),
                                        "c": ("3", "2026-12-01T11:30:00+00:00")}


def test_a_status_and_its_later_boost_keep_the_boosts_place() -> None:
    """The home timeline lists a post and, later, someone's boost of it: one item, whose
    place in the timeline is the boost's (its own id and time), not the original's."""
    original = {"id": "100", "uri": "https://b.example/s/1", "created_at": "2026-12-01T09:00:00.5Z",
                "content": "<p>hi</p>", "account": {"acct": "bob", "url": "https://b.example/@bob"}}
    boost = {"id": "abc", "uri": "https://c.example/s/boost", "created_at": "2026-12-01T11:00:00.25Z",
             "content": "", "reblog": original,
             "account": {"acct": "carol", "url": "https://c.example/@carol"}}
    for batch in ([boost, original], [original, boost]):
        items, bad = normalize_statuses(batch, host="b.example")
        assert bad == 0 and len(items) == 1
        assert positions_of(items) == {"https://b.example/s/1": ("abc", "2026-12-01T11:00:00.250000+00:00")}
        assert items[0].published == datetime(2026, 12, 1, 9, 0, 0, 500000, tzinfo=UTC)


def test_positions_only_for_items_with_an_entry() -> None:
    feed_like = ItemData(key="k", kind="feed")
    assert positions_of([feed_like]) == {}


@pytest.mark.parametrize("value", ["", "<p>no links</p>"])
def test_websites_of_empty_fields(value: str) -> None:
    assert websites([{"name": "x", "value": value}]) == ()
