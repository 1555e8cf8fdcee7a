"""Where a Mastodon timeline continues (companion.sources.paging): plain data, no server."""

from __future__ import annotations

from companion.sources.paging import entry_id, fresh, link_param, newest_first, position

LINK = ('<https://x.example/api/v1/timelines/home?max_id=7a&limit=40>; rel="next", '
        '<https://x.example/api/v1/timelines/home?since_id=9f&limit=40>; rel="prev"')


def st(i: str, when: str = "2026-01-01T00:00:00Z", *, boost: bool = False) -> dict[str, object]:
    return {"id": i, "created_at": when, "reblog": {"id": "orig-" + i} if boost else None}


def test_link_param_reads_the_header_the_server_sent() -> None:
    assert link_param(LINK, "prev", ("min_id", "since_id")) == "9f"
    assert link_param(LINK, "next", ("max_id",)) == "7a"
    assert link_param(LINK, "prev", ("min_id",)) is None  # not the request's own min_id
    assert link_param(None, "prev", ("min_id",)) is None
    assert link_param("garbage", "next", ("max_id",)) is None
    assert link_param('<https://x/?min_id=1>; rel=prev', "prev", ("min_id",)) == "1"


def test_position_is_the_newest_entry_that_is_not_a_boost() -> None:
    page = [st("c", boost=True), st("b", boost=True), st("a"), st("z")]
    assert position(page) == ("a", ["c", "b"])
    assert position([st("a"), st("z")]) == ("a", [])
    assert position([st("c", boost=True)]) == ("c", [])  # only boosts: the newest one
    assert position([]) == (None, [])
    # only boosts above an original cursor: the cursor stays, the boosts are remembered ...
    assert position([st("d", boost=True)], "a", ["c", "b"]) == ("a", ["d", "c", "b"])
    # ... until there are too many of them to leave room in a page: then a boost it is
    many = [f"b{n}" for n in range(20)]
    assert position([st("x", boost=True)], "a", many) == ("x", [])
    assert entry_id({"id": 12}) == "12" and entry_id({"id": ""}) is None


def test_fresh_skips_what_was_received_and_stops_at_the_cursor() -> None:
    page = [st("d"), st("c"), st("b"), st("a")]
    assert fresh(page, "b", set()) == ([st("d"), st("c")], True)
    assert fresh(page, "zz", {"c"}) == ([st("d"), st("b"), st("a")], False)
    assert fresh(page, None, {"a", "b", "c", "d"}) == ([], False)


def test_newest_first_by_the_page_order_not_the_ids() -> None:
    old, new = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"
    assert [e["id"] for e in newest_first([st("1", new), st("2", old)])] == ["1", "2"]
    assert [e["id"] for e in newest_first([st("1", old), st("2", new)])] == ["2", "1"]
    assert [e["id"] for e in newest_first([st("9", old), st("10", old)])] == ["9", "10"]


def test_entry_ids_and_link_relations_as_servers_send_them() -> None:
    assert entry_id({"id": None}) is None and entry_id({}) is None
    both = ('<https://x/?min_id=1>; rel="next", <https://x/?min_id=2>; rel="prev"')
    assert link_param(both, "prev", ("min_id",)) == "2"  # the URL of that relation only
    assert link_param('<https://x/?min_id=3>; rel="PREV"', "prev", ("min_id",)) == "3"
    assert link_param('<https://x/?min_id=4>; rel="next prev"', "prev", ("min_id",)) == "4"
    assert link_param('<https://x/?min_id=5>; title="x", <https://x/?min_id=6>; rel=prev',
                      "prev", ("min_id",)) == "6"  # a link without rel is not it


def test_a_page_is_reversed_only_when_its_last_entry_is_newer_than_its_first() -> None:
    old, mid, new = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"
    page = [st("1", mid), st("2", new), st("3", old)]  # newest first, but for one entry
    assert [e["id"] for e in newest_first(page)] == ["1", "2", "3"]


def test_boosts_above_the_cursor_are_kept_up_to_twenty() -> None:
    above = [f"b{n}" for n in range(19)]
    assert position([st("x", boost=True)], "a", above) == ("a", ["x", *above])  # 20 in all
    assert position([{"created_at": "2026-01-01T00:00:00Z", "reblog": None}, st("a")]) \
        == ("a", [])  # an entry without an id is no position


def test_an_entry_without_id_is_never_the_cursor() -> None:
    page = [{"created_at": "2026-01-01T00:00:00Z", "reblog": None}, st("a")]
    assert fresh(page, None, set()) == (page, False)
