"""The rules of thread splitting (README "Threads"): Mastodon's character counting (every
URL counts as ``characters_reserved_per_url``, 23, trailing punctuation not part of it, and a
mention ``@user@domain`` as ``@user``: Mastodon's StatusLengthValidator with twitter-text's
URL extraction and Mastodon's own path rules), the numbering that counts towards the limit at
any number of parts, and where a thread is cut."""

from __future__ import annotations

import pytest

from companion.errors import UsageError
from companion.reflections.thread import (
    DEFAULT_MAX_CHARACTERS,
    DEFAULT_URL_LENGTH,
    Limits,
    cw_length,
    part_length,
    rest_of,
    split_thread,
    strip_suffix,
    suffix,
    weighted_length,
)

URL = "https://example.org/2026/11/a-long-article-about-feedback-and-assessment"  # 71 chars


def test_mastodons_defaults() -> None:
    assert (DEFAULT_MAX_CHARACTERS, DEFAULT_URL_LENGTH) == (500, 23)
    assert Limits() == Limits(max_characters=500, url_length=23)


# ----- counting ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "count"), [
    ("", 0), ("plain words", 11), ("日本語 🙂", 5),  # characters (code points), not bytes
    (URL, 23), ("http://a.co", 23),  # however long or short
    ("HTTPS://EXAMPLE.ORG/X", 23),
    (f"{URL}.", 24), (f"{URL},", 24), (f"{URL}!", 24), (f"{URL}?", 24), (f"{URL};", 24),
    (f"{URL}:", 24), (f"({URL})", 25), (f"[{URL}]", 25), (f'"{URL}"', 25), (f"'{URL}'", 25),
    (f"{URL}).", 25), (f"{URL}...", 26),
    (f"{URL}?id=3", 23), (f"{URL}#frag", 23), (f"{URL}/", 23),  # inside the URL
    (f"{URL} {URL}", 47), (f"{URL}\n{URL}", 47),
    ("www.example.org", 15), ("example.org/path", 16),  # no scheme: not a URL to Mastodon
    ("ftp://example.org/file", 22), ("mailto:ada@m.example", 20),
    ("http://x.y", 10), ("http://localhost/" + "a" * 30, 47),  # no known top-level domain
    (f"<{URL}>", 25), (f'{URL}"quoted', 23),  # Mastodon's path takes '"', never '<' or '>'
])  # fmt: skip
def test_weighted_length_counts_as_mastodon_does(text: str, count: int) -> None:
    assert weighted_length(text) == count


def test_the_instance_url_length_is_used() -> None:
    assert weighted_length(f"a {URL} b", url_length=30) == 4 + 30
    assert weighted_length(f"a {URL} b", url_length=0) == 4


# ----- one part ------------------------------------------------------------------------------


def test_a_post_of_exactly_the_limit_is_one_part_and_one_more_is_two() -> None:
    words = ("abcd " * 100).strip()  # 499
    exact = words + "e"
    assert len(exact) == 500
    assert split_thread(exact) == [exact]
    over = words + " ef"
    assert len(over) == 502
    parts = split_thread(over)
    assert len(parts) == 2 and all(len(p) <= 500 for p in parts)
    assert split_thread("x" * 120, Limits(max_characters=120)) == ["x" * 120]


def test_one_part_when_urls_counted_as_23_fit() -> None:
    text = ("word " * 90).strip() + " " + URL  # 449 + 1 + 71 = 521 raw, 473 counted
    assert split_thread(text) == [text]


def test_text_is_stripped_and_empty_text_refused() -> None:
    assert split_thread("\n  hello \n") == ["hello"]
    for text in ("", " ", "\n\n\t"):
        with pytest.raises(UsageError, match="nothing to post"):
            split_thread(text)


# ----- numbering -----------------------------------------------------------------------------


def test_suffix_and_strip_suffix() -> None:
    assert suffix(1, 4) == " 1/4" and suffix(12, 12) == " 12/12"
    assert strip_suffix("text 3/12") == "text"
    assert strip_suffix("text 3/12 more") == "text 3/12 more"
    assert strip_suffix("text") == "text"


@pytest.mark.parametrize("limit", [100, 120, 150])
@pytest.mark.parametrize("word", [3, 4, 5, 7, 9, 11, 14])
def test_every_part_fits_with_its_numbering_at_any_number_of_parts(limit: int, word: int) -> None:
    """Around 10 parts the numbering grows a digit (" 9/9" -> " 10/10"): a thread of 10 or
    more parts must reserve room for it in every part."""
    for n in range(20, 320, 7):
        text = " ".join(("w" * word)[: word - 1] + str(i % 10) for i in range(n))
        parts = split_thread(text, Limits(max_characters=limit))
        total = len(parts)
        for k, p in enumerate(parts, 1):
            assert len(p) <= limit, (n, k, p)
            if total > 1:
                assert p.endswith(f" {k}/{total}")
        bodies = [strip_suffix(p) for p in parts] if total > 1 else parts
        assert " ".join(bodies).split() == text.split()


def test_a_hundred_parts_and_more() -> None:
    text = " ".join(f"w{i:04d}" for i in range(2500))  # 14,999 characters
    parts = split_thread(text, Limits(max_characters=100))
    assert len(parts) >= 100
    assert all(len(p) <= 100 for p in parts)
    assert parts[-1].endswith(f" {len(parts)}/{len(parts)}")


@pytest.mark.parametrize(("limit", "words", "total", "body"), [
    (500, 2200, 9, 495),  # up to 9 parts: " 9/9" reserved (4), filled to 495 of 496
    (500, 4000, 17, 493),  # 10 to 99 parts: " 99/99" reserved (6), to 493 of 494
    (200, 10_000, 105, 191),  # 100 to 999: " 999/999" reserved (8), to 191 of 192
])  # fmt: skip
def test_the_numbering_reserves_exactly_the_digits_the_thread_needs(
        limit: int, words: int, total: int, body: int) -> None:
    """Parts are as full as the numbering allows (single-letter words fill a part to within
    one character of its room)."""
    parts = split_thread(" ".join(["a"] * words), Limits(max_characters=limit))
    assert len(parts) == total
    assert max(len(strip_suffix(p)) for p in parts) == body
    assert all(len(p) <= limit for p in parts)


def test_a_limit_too_small_for_a_thread_is_refused() -> None:
    with pytest.raises(UsageError, match="limit of 43 is too small"):
        split_thread("word " * 30, Limits(max_characters=43))
    assert len(split_thread("word " * 30, Limits(max_characters=44))) > 1  # 40 left per part


# ----- where a thread is cut -----------------------------------------------------------------


def _fill(n: int, end: str = "") -> str:
    """Words of 4 letters, ``n`` characters in all, ending with ``end``."""
    words = " ".join(["word"] * ((n + 1) // 5))
    return (words + "x" * (n - len(words)))[: n - len(end)] + end


def test_a_paragraph_break_is_preferred_to_a_line_break() -> None:
    a, b, c = _fill(260), _fill(100), _fill(400)
    parts = split_thread(f"{a}\n\n{b}\n{c}")
    assert strip_suffix(parts[0]) == a  # cut at the paragraph, not at the later line break
    parts = split_thread(f"{a}\n{b}\n\n{c}")
    assert strip_suffix(parts[0]) == f"{a}\n{b}"  # the paragraph comes later and still fits


def test_a_line_break_is_preferred_to_a_sentence_end() -> None:
    a, b, c = _fill(250), _fill(100, "."), _fill(400)
    parts = split_thread(f"{a}\n{b} {c}")
    assert strip_suffix(parts[0]) == a


def test_a_sentence_end_is_preferred_to_a_word() -> None:
    a, c = _fill(300, "."), _fill(400)
    parts = split_thread(f"{a} {c}")
    assert strip_suffix(parts[0]) == a


@pytest.mark.parametrize("end", [".", "!", "?", "…", ".)", '."', ".'", "?]", "!»", ".”",
                                 "?’"])
def test_sentence_ends(end: str) -> None:
    a, c = _fill(300, end), _fill(400)
    assert strip_suffix(split_thread(f"{a} {c}")[0]) == a


@pytest.mark.parametrize("end", [",", ";", ":", ")", "-", ".x", "e.g"])
def test_not_sentence_ends(end: str) -> None:
    a, c = _fill(300, end), _fill(400)
    assert strip_suffix(split_thread(f"{a} {c}")[0]) != a


def test_a_better_boundary_is_taken_only_if_it_fills_half_a_part() -> None:
    budget = 500 - len(" 9/9")  # 496
    # a paragraph break after exactly half the budget: taken
    a = _fill(budget // 2)
    parts = split_thread(f"{a}\n\n{_fill(600)}")
    assert strip_suffix(parts[0]) == a
    # one character less than half: the part is filled with words instead
    a = _fill(budget // 2 - 1)
    parts = split_thread(f"{a}\n\n{_fill(600)}")
    assert strip_suffix(parts[0]) != a and len(parts[0]) > 450


def test_a_better_boundary_is_taken_even_with_one_word_left_over() -> None:
    a = _fill(300)
    b = _fill(190)
    parts = split_thread(f"{a}\n\n{b} zzzzzzzzzz")  # a + b fit, the last word does not
    assert [strip_suffix(p) for p in parts] == [a, f"{b} zzzzzzzzzz"]


def test_the_last_part_is_not_cut_again() -> None:
    a, b, c = _fill(300), _fill(300), _fill(150)
    parts = split_thread(f"{a}\n\n{b}\n\n{c}")  # b and c fit in one part: one part
    assert [strip_suffix(p) for p in parts] == [a, f"{b}\n\n{c}"]


def test_a_mention_or_hashtag_of_exactly_a_parts_room_fits() -> None:
    tag = "#" + "a" * 495  # 496: a part's room beside " 1/2"
    parts = split_thread(f"{tag} and more")
    assert parts == [f"{tag} 1/2", "and more 2/2"]


def test_a_cut_is_only_made_at_whitespace_and_urls_are_never_split() -> None:
    text = " ".join([URL] * 40)  # 40 URLs: 40*23 + 39 = 959 counted
    parts = split_thread(text)
    assert all(weighted_length(p) <= 500 for p in parts)
    assert [w for p in parts for w in strip_suffix(p).split()] == [URL] * 40


def test_a_mention_hashtag_or_url_longer_than_a_part_is_refused() -> None:
    for atom in ("#" + "a" * 600, "@" + "b" * 600, "(#" + "c" * 600, "[@" + "d" * 600,
                 "HTTP://e.example" + ")" * 600):
        with pytest.raises(UsageError, match="cannot be split"):
            split_thread(f"before {atom} after")
    # a URL counts 23 however long: it always fits
    long_url = "https://example.org/" + "f" * 700
    assert split_thread(f"see {long_url}") == [f"see {long_url}"]


def test_a_word_longer_than_a_part_is_cut_into_full_parts() -> None:
    blob = "x" * 1200
    parts = split_thread(f"start {blob} end")
    bodies = [strip_suffix(p) for p in parts]
    assert "".join(b.replace(" ", "") for b in bodies) == f"start{blob}end"
    assert all(len(p) <= 500 for p in parts)
    budget = 500 - len(" 9/9")
    assert bodies == ["start", "x" * budget, "x" * budget, "x" * (1200 - 2 * budget) + " end"]


# ----- the content warning, resuming a thread ----------------------------------------------


def test_the_content_warning_counts_as_written_on_every_part() -> None:
    assert cw_length("  spoilers  ") == 8 and cw_length("🇩🇪 news") == 6
    assert part_length("abc", Limits()) == 3
    assert part_length(f"see {URL}", Limits(), cw=" cw ") == 4 + 23 + 2
    assert part_length(f"see {URL}", Limits(url_length=None), cw="cw") == 4 + len(URL) + 2
    cw = "x" * 37
    exact = ("abcd " * 91).strip() + " abcdefgh"  # 463
    assert len(exact) == 463 and split_thread(exact, cw=cw) == [exact]
    parts = split_thread(exact + "g", cw=cw)
    assert len(parts) == 2 and all(part_length(p, Limits(), cw) <= 500 for p in parts)


def test_a_thread_resumed_at_part_n_is_numbered_from_n() -> None:
    assert split_thread("short", first=3) == ["short 3/3"]
    parts = split_thread(("word " * 300).strip(), first=3)
    assert [p.rsplit(" ", 1)[1] for p in parts] == [f"{n}/{len(parts) + 2}"
                                                    for n in range(3, len(parts) + 3)]
    tenth = split_thread("x " * 200, Limits(max_characters=100), first=10)
    assert tenth[0].endswith(f" 10/{len(tenth) + 9}") and all(len(p) <= 100 for p in tenth)


@pytest.mark.parametrize(("limit", "cw", "message"), [
    (44, "c", "the content warning (1 characters) leaves too little"),  # 44 - " 9/9" = 40
    (43, "c", "the instance's limit of 43 is too small"),
    (30, "cw", "the instance's limit of 30 is too small"),
    (45, "", "the instance's limit of 45 is too small"),  # ten parts and more: " 10/10"
])  # fmt: skip
def test_too_little_room_says_why(limit: int, cw: str, message: str) -> None:
    text = "word " * (60 if cw else 120)
    with pytest.raises(UsageError) as e:
        split_thread(text, Limits(max_characters=limit), cw=cw if limit != 44 else "c" * 5)
    assert message.replace("(1 ", "(5 ") in e.value.message


def test_rest_of_is_what_the_sent_parts_do_not_carry() -> None:
    text = "  " + "\n\n".join(["Same words again and again. " * 8] * 8) + "  "
    parts = split_thread(text)
    assert len(parts) >= 4
    for k in range(len(parts) + 1):
        rest = rest_of(text, parts[:k])
        assert rest == rest.strip() and rest.split() == " ".join(
            strip_suffix(p) for p in parts[k:]).split()
        if k:
            assert text.strip().startswith(" ".join(strip_suffix(p) for p in parts[:k])[:20])
    assert rest_of(text, []) == text.strip() and rest_of(text, parts) == ""
    with pytest.raises(UsageError):
        rest_of(text, ["not a piece of it 1/2"])
