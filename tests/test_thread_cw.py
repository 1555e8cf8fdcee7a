"""Splitting with the content warning counted (issue 11.7), and splitting the rest of a thread
again after the server refused a part: plain data in, parts out."""

from __future__ import annotations

import random

import pytest

from companion.errors import UsageError
from companion.reflections.thread import (
    Limits,
    part_length,
    rest_of,
    split_thread,
    strip_suffix,
    weighted_length,
)

SENTENCE = "Retrieval practice works because recalling is effortful, see https://ex.org/rp. "
CW = "assessment, long read, teaching notes"  # 37 characters


def words(parts: list[str]) -> list[str]:
    return " ".join(strip_suffix(p) for p in parts).split()


def test_every_part_with_its_cw_fits_the_limit() -> None:
    text = (SENTENCE * 25).strip()
    for cw in ("", "cw", CW, "x" * 200):
        parts = split_thread(text, Limits(500), cw=cw)
        assert all(part_length(p, Limits(500), cw) <= 500 for p in parts), cw
        assert words(parts) == text.split()  # nothing lost, nothing twice, in order
        n = len(parts)
        assert [p.rsplit(" ", 1)[1] for p in parts] == [f"{i}/{n}" for i in range(1, n + 1)]
    assert len(split_thread(text, Limits(500), cw="x" * 200)) > len(split_thread(text, Limits(500)))


def test_a_text_that_fits_alone_but_not_with_its_cw_becomes_a_thread() -> None:
    text = ("Spacing beats cramming, and my students now know it. " * 10)[:480].strip()
    assert split_thread(text, Limits(500)) == [text]
    parts = split_thread(text, Limits(500), cw=CW)
    assert len(parts) == 2
    assert all(len(p) + len(CW) <= 500 for p in parts)


def test_a_cw_that_leaves_too_little_room_is_refused_with_a_reason() -> None:
    with pytest.raises(UsageError, match="content warning .* leaves too little"):
        split_thread(SENTENCE * 20, Limits(500), cw="y" * 470)


def test_random_texts_and_cws_always_fit() -> None:
    rng = random.Random(11)
    vocab = ["learning", "https://ex.org/a/very/long/path/that/counts/as/23", "#edtech",
             "@bob@mock.local", "notes.", "a", "retrieval", "questions?", "\n\n", "\n"]
    for _ in range(200):
        text = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 400))).strip()
        if not text:
            continue
        limits = Limits(rng.choice([200, 300, 500, 1000]), rng.choice([23, None]))
        cw = "w" * rng.randint(0, 60)
        parts = split_thread(text, limits, cw=cw)
        assert all(part_length(p, limits, cw) <= limits.max_characters for p in parts)
        assert words(parts) == text.split()


def test_urls_as_written_when_the_server_counts_them_so() -> None:
    url = "https://ex.org/" + "x" * 80
    assert weighted_length(url, None) == len(url)
    assert weighted_length(url, 23) == 23
    text = " ".join([url] * 6)  # 6 * 96: one part as Mastodon counts, two as written
    assert split_thread(text, Limits(500)) == [text]
    assert len(split_thread(text, Limits(500, None))) == 2


def test_the_rest_of_a_thread_is_split_again_and_numbered_on() -> None:
    text = (SENTENCE * 25).strip()
    parts = split_thread(text, Limits(500))
    sent = parts[:2]
    rest = rest_of(text, sent)
    assert rest.split() == words(parts[2:])
    again = split_thread(rest, Limits(300, None), first=3)
    n = 2 + len(again)
    assert [p.rsplit(" ", 1)[1] for p in again] == [f"{i}/{n}" for i in range(3, n + 1)]
    assert all(len(p) <= 300 for p in again)
    assert words(sent + again) == text.split()
    # the rest of a thread stays numbered even when it fits one part
    assert split_thread("short rest", Limits(500), first=4) == ["short rest 4/4"]
    with pytest.raises(UsageError):
        rest_of(text, ["not a piece of it 1/2"])
