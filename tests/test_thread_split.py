"""The thread splitter is a pure function: plain data in, parts out."""

from __future__ import annotations

import random
import re

import pytest

from companion.errors import UsageError
from companion.reflections.thread import (
    Limits,
    split_thread,
    strip_suffix,
    weighted_length,
)

LONG_URL = "https://example.org/2026/11/a-very-long-article-path-about-formative-assessment?utm=x"


def test_short_text_is_one_part_without_numbering() -> None:
    assert split_thread("  Hello fediverse #edtech  ") == ["Hello fediverse #edtech"]


def test_empty_text_is_refused() -> None:
    with pytest.raises(UsageError):
        split_thread(" \n ")


def test_urls_count_as_23() -> None:
    assert weighted_length(LONG_URL) == 23
    assert weighted_length(f"see {LONG_URL}.") == 4 + 23 + 1
    assert weighted_length("no links here") == len("no links here")
    assert weighted_length(f"({LONG_URL}) and http://x.y", url_length=10) == 1 + 10 + 6 + 10


def test_text_that_fits_only_because_urls_count_23_is_one_part() -> None:
    text = ("word " * 90 + LONG_URL).strip()  # 450 + 81 raw characters, 473 weighted
    assert len(text) > 500
    assert split_thread(text) == [text]


def test_split_prefers_paragraphs_then_sentences() -> None:
    p1 = "First paragraph. " * 15  # ~255
    p2 = "Second paragraph here. " * 15  # ~345
    parts = split_thread(p1.strip() + "\n\n" + p2.strip())
    assert len(parts) == 2
    assert parts[0] == p1.strip() + " 1/2"
    assert parts[1] == p2.strip() + " 2/2"


def test_split_at_sentence_when_paragraph_is_too_long() -> None:
    sentence = "Students learn best when they explain ideas to each other. "
    text = (sentence * 20).strip()
    parts = split_thread(text)
    assert len(parts) > 1
    for p in parts[:-1]:
        assert strip_suffix(p).endswith("other.")


def test_numbering_counts_towards_the_limit() -> None:
    text = " ".join(["abcd"] * 300)  # 1499 characters of 5-character steps
    parts = split_thread(text, Limits(max_characters=100))
    assert all(len(p) <= 100 for p in parts)
    total = len(parts)
    assert total >= 10  # two-digit numbering was reserved
    for n, p in enumerate(parts, 1):
        assert p.endswith(f" {n}/{total}")


def test_a_word_longer_than_a_part_is_cut_but_an_atom_is_refused() -> None:
    blob = "x" * 1200
    parts = split_thread(f"start {blob} end")
    assert "".join(strip_suffix(p).replace(" ", "") for p in parts) == f"start{blob}end"
    with pytest.raises(UsageError, match="cannot be split"):
        split_thread("#" + "a" * 600)


def test_instance_limit_and_url_length_are_used() -> None:
    text = " ".join([LONG_URL] * 30)
    parts = split_thread(text, Limits(max_characters=1000, url_length=23))
    assert len(parts) == 1  # 30 * 23 + 29 = 719
    parts = split_thread(text, Limits(max_characters=300, url_length=40))
    assert all(weighted_length(p, 40) <= 300 for p in parts)
    assert len(parts) == 5


_VOCAB = [
    "learning", "teachers", "feedback.", "Why?", "because", "the", "a", "rubric,", "really!",
    "classroom", "@bob@mastodon.social", "@carol", "#EdTech", "#formative_assessment",
    LONG_URL, "https://ex.org/a", "(https://blog.example/p?id=3).", "éèçà", "日本語の文章",
    "emoji🙂", "\n", "\n\n", "—", "ok.",
]  # fmt: skip

_ATOM_RE = re.compile(r"https?://\S+|[@#]\w[\w@.]*")


@pytest.mark.parametrize("seed", range(60))
def test_property_every_part_fits_and_nothing_is_lost_or_cut(seed: int) -> None:
    rng = random.Random(seed)
    limit = rng.choice([120, 200, 500, 500, 500, 1000])
    limits = Limits(max_characters=limit, url_length=rng.choice([23, 23, 30]))
    words = [rng.choice(_VOCAB) for _ in range(rng.randint(1, 600))]
    text = " ".join(words)
    if not text.strip():
        return
    parts = split_thread(text, limits)
    # every part fits, counted the way Mastodon counts
    for p in parts:
        assert weighted_length(p, limits.url_length) <= limit, p
    # numbering is complete and in order
    if len(parts) > 1:
        for n, p in enumerate(parts, 1):
            assert p.endswith(f" {n}/{len(parts)}")
    bodies = [strip_suffix(p) if len(parts) > 1 else p for p in parts]
    # concatenation preserves every word, in order
    assert " ".join(bodies).split() == text.split()
    # no URL, mention or hashtag is split: each one is whole inside one part
    atoms = _ATOM_RE.findall(text)
    found = [a for b in bodies for a in _ATOM_RE.findall(b)]
    assert found == atoms
    # no part is empty or starts/ends with whitespace
    assert all(b and b == b.strip() for b in bodies)
