"""How Mastodon counts a status (companion/reflections/status_length.py), stated from Mastodon.

The first block is Mastodon's own spec of its validator
(spec/validators/status_length_validator_spec.rb), example for example. The others state the
rules its code applies: twitter-text 3.1's URL extraction with Mastodon's path and query
characters (config/initializers/twitter_regex.rb), ``Account::MENTION_RE`` and
app/lib/extractor.rb for mentions, grapheme clusters for the count. Counting less than the
server gets a part refused, so where pln cannot know (Unicode versions differ) it must count
more, never less: stated against the ``regex`` module's UAX #29 clusters.
"""

from __future__ import annotations

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from companion.reflections.status_length import clusters, countable_text, status_length, tlds
from companion.reflections.thread import Limits, part_length, split_thread

LIMIT = 500


def fits(text: str, cw: str = "") -> bool:
    return part_length(text, Limits(), cw) <= LIMIT


# ----- Mastodon's spec of StatusLengthValidator ---------------------------------------------


def test_content_warning_and_text_count_together() -> None:
    assert not fits("", cw="a" * 520)
    assert not fits("a" * 520)
    assert not fits("b" * 251, cw="a" * 250)
    assert fits("b" * 250, cw="a" * 250)


def test_urls_count_as_23_characters_flat() -> None:
    text = "a" * 476 + " http://" + "b" * 30 + ".com/example"
    assert len(text) == 526 and status_length(text) == LIMIT and fits(text)
    assert split_thread(text) == [text]  # one post, as the server takes it


def test_urls_that_cannot_be_autolinked_count_as_written() -> None:
    text = "a" * 476 + "http://" + "b" * 30 + ".com/example"  # a letter before the scheme
    assert status_length(text) == len(text) and not fits(text)


def test_overly_long_urls_count_as_written() -> None:
    text = "http://example.com/valid?" + "#foo?" * 1000  # over 4,096 characters
    assert status_length(text) == len(text)


def test_only_the_front_part_of_remote_usernames_counts() -> None:
    text = "a" * 475 + " @alice@" + "b" * 30 + ".com"
    assert status_length(text) == 475 + 1 + len("@alice") and fits(text)
    exact = "a" * (LIMIT - 1 - len("@alice")) + " @alice@" + "b" * 30 + ".com"
    assert status_length(exact) == LIMIT and split_thread(exact) == [exact]


def test_both_parts_of_a_remote_username_count_for_an_overly_long_domain() -> None:
    text = "@alice@" + "b" * 500 + ".com"
    assert status_length(text) == len(text) and not fits(text)
    assert status_length("@alice@" + "b" * 249 + ".com") == len("@alice")  # 253: still a domain


def test_multibyte_and_zwj_emoji_count_as_one_character() -> None:
    assert fits("✨" * LIMIT)
    assert fits("\U0001F3F3\uFE0F\u200D\u26A7\uFE0F" * LIMIT)  # 🏳️‍⚧️: five code points


# ----- where a URL ends (twitter-text's extraction, Mastodon's path characters) --------------

HOST = "https://example.org"


@pytest.mark.parametrize(("text", "count"), [
    (f"{HOST}/page—next and", 23 + 4),  # an em dash in a path is a path character
    (f"{HOST}/page… and", 23 + 4), (f"{HOST}/päge»", 23),  # so is any non-ASCII punctuation
    (f"{HOST}—next", 23 + 5),  # a host ends at the first character that is not a host's
    (f"{HOST}/page.", 24), (f"{HOST}/page,", 24), (f"{HOST}/page~", 24), (f"{HOST}/page&", 24),
    (f"{HOST}/page=", 24), (f"{HOST}/page|", 24), (f"{HOST}/page$", 24), (f"{HOST}/page%", 24),
    (f"{HOST}/page@", 24), (f"{HOST}/page*", 24), (f"{HOST}/page'", 24), (f"{HOST}/page「", 24),
    (f"{HOST}/a~b", 23), (f"{HOST}/a=b", 23),  # allowed inside, not at the end
    (f"{HOST}/wiki/Film_(1999)", 23), (f"({HOST}/wiki/Film_(1999))", 25),  # balanced ( )
    (f"{HOST}/a)", 24), (f"{HOST}/a(b", 23 + 2),  # unbalanced: the URL ends before it
    (f"{HOST}/a?", 24), (f"{HOST}/a?q=1.", 24), (f"{HOST}/a?q=ü", 23),  # a query's end
    (f"{HOST}/?q={{x}}", 23 + 3), (f"{HOST}:8080/a", 23), (f"{HOST}:x", 23 + 2),
    ("gemini://a.co/x", 23), ("ipfs://a.co", 23), ("ftp://a.co", 10),  # Mastodon's schemes
    ("https://bücher.de/x", 23), ("https://例え.jp", 23),  # international hosts
    ("https://" + "b" * 64 + ".com", 76),  # a label of 64 has no IDNA form: not a URL
    ("http://localhost:3000/x", 23), ("http://a.b", 10), ("http://a.zz", 11),  # unknown TLDs
    ("https://example.com.au/x", 23), ("https://xn--bcher-kva.de", 23),
    ("https://t.co/abc—def", 23 + 4), ("https://t.co/" + "a" * 41, 54),  # twitter-text's t.co
    ("x" + HOST, 20), ("@" + HOST, 20), ("#" + HOST, 20), ("1" + HOST, 20),  # glued to a word
    ("é" + HOST, 24), ("/" + HOST, 24), ("(" + HOST, 24),  # after anything else: a URL
    (f"{HOST}/a {HOST}/b", 47), (f"{HOST},{HOST}", 23 + 1 + 23),
])  # fmt: skip
def test_where_a_url_ends(text: str, count: int) -> None:
    assert status_length(text) == count


def test_a_url_inside_a_url_without_scheme_is_not_counted_apart() -> None:
    # twitter-text scans for URLs with or without a scheme and only then drops those
    # without: example.org/… swallows the https:// URL in its path
    assert status_length(f"example.org/{HOST}/x") == len(f"example.org/{HOST}/x")


def test_the_instance_url_length_replaces_23() -> None:
    assert status_length(f"see {HOST}/x", url_length=30) == 4 + 30
    assert countable_text(f"see {HOST}/x", url_length=3) == "see xxx"
    assert status_length(f"@a@b.org {HOST}/x", url_length=None) == len(f"@a@b.org {HOST}/x")


# ----- mentions -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "counted"), [
    ("@alice@example.org", "@alice"), ("@Alice@Example.ORG", "@Alice"), ("@alice", "@alice"),
    ("hi @alice@example.org.", "hi @alice."), ("(@a.b-c@sub.example.org)", "(@a.b-c)"),
    ("@alice@bücher.de", "@alice"), ("@alice@localhost", "@alice"),  # any word after @
    ("ada@example.org", "ada@example.org"),  # an address: the @ follows a word character
    ("x=@alice@example.org", "x=@alice@example.org"), ("/@alice@ex.org", "/@alice@ex.org"),
    ("@alice@example.org@x", "@alice@example.org@x"),  # followed by @: not a mention
    ("@alice@example.org://", "@alice@example.org://"), ("@alice://x", "@alice://x"),
    (f"{HOST}/@alice@example.org", "x" * 23),  # inside a URL: the URL counts
    ("@alice@example.org @bob@example.net", "@alice @bob"),
])  # fmt: skip
def test_mentions_count_without_their_domain(text: str, counted: str) -> None:
    assert countable_text(text) == counted
    assert status_length(text) == len(counted)


# ----- grapheme clusters ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "count"), [
    ("abc", 3), ("a\r\nb", 3), ("a\n\nb", 4), ("日本語", 3),
    ("e\u0301", 1), ("n\u0303o\u0308", 2),  # combining marks
    ("❤\ufe0f", 1), ("👍\U0001F3FD", 1),  # a variation selector, a skin tone
    ("🇩🇪🇫🇷", 2), ("🇩🇪🇫", 2),  # flags: regional indicators in pairs
    ("👨\u200d👩\u200d👧", 1), ("🏳\ufe0f\u200d🌈", 1),  # ZWJ sequences
])  # fmt: skip
def test_clusters_as_unicode_segments_them(text: str, count: int) -> None:
    assert clusters(text) == count == len(regex.findall(r"\X", text))


@pytest.mark.parametrize(("text", "count"), [
    ("क्ष", 2),  # a conjunct: one cluster from Unicode 15.1 on, two for Ruby 3.3 (15.0)
    ("a\u200d😀", 2),  # ZWJ after a letter joins it; the emoji after it is new
    ("\u0600a", 2), ("a\u0903", 2),  # Prepend, SpacingMark: not joined (newer rules vary)
    ("\u200b\u0301", 2), ("\n\u0301", 2),  # a mark after a control starts a cluster
    ("\U000e0080\ua8c4", 2),  # a reserved default ignorable is a control
    ("😀\u200d\U0001fc00", 2),  # so is any code point Python does not know yet
])  # fmt: skip
def test_clusters_are_never_fewer_than_the_server_counts(text: str, count: int) -> None:
    assert clusters(text) == count


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_clusters_lie_between_uax29_and_code_points(text: str) -> None:
    assert len(regex.findall(r"\X", text)) <= clusters(text) <= len(text)


@given(st.lists(st.sampled_from(list(
    "a\r\n\u0301\u200d\u200c\ufe0f\U0001F3FB\U0001F1E9\U0001F1EA😀👍⚧\u0903\u0915\u094d\u0600"
    "\u200b\U000e0080")), max_size=12).map("".join))
def test_clusters_of_joining_characters_lie_between_uax29_and_code_points(text: str) -> None:
    assert len(regex.findall(r"\X", text)) <= clusters(text) <= len(text)


@given(st.lists(st.sampled_from([
    "word", " ", "\n", ".", "—", "(", ")", "@alice", "@bob@example.org", HOST, "/path", "?q=1",
    "é", "\u0301", "🇩", "👍", "\u200d", "#tag", "http://a.zz", "~"]), max_size=12))
def test_a_post_never_counts_less_when_cut_at_whitespace(pieces: list[str]) -> None:
    # thread splitting weighs each word alone: that never gives less than the whole
    text = "".join(pieces)
    words = regex.split(r"(\s+)", text)
    assert sum(status_length(w) if not w.isspace() else len(w) for w in words) \
        >= status_length(text)


# ----- limits of twitter-text's extraction ----------------------------------------------------


def test_a_url_is_at_most_4096_characters_with_its_host_in_idna() -> None:
    base = f"{HOST}/"
    exact = base + "a" * (4096 - len(base))
    assert status_length(exact) == 23 and status_length(exact + "b") == 4097
    idn = "https://bücher.de/"  # xn--bcher-kva.de: 7 characters longer
    near = idn + "a" * (4096 - len(idn) - 7)
    assert status_length(near) == 23 and status_length(near + "b") == len(near) + 1


def test_a_t_co_slug_is_at_most_40_characters_and_only_at_the_start() -> None:
    assert status_length("https://t.co/" + "a" * 40) == 23
    assert status_length("https://t.co/" + "a" * 41) == 54
    inner = f"{HOST}/?u=https://t.co/abc"  # t.co in a query is just part of the URL
    assert status_length(inner) == 23


def test_a_mention_domain_is_at_most_253_characters() -> None:
    assert status_length("@alice@" + "b" * 250 + ".com") == len("@alice@" + "b" * 250 + ".com")


@pytest.mark.parametrize(("skipped", "count"), [
    ("example.org", 11), ("https://t.co/" + "a" * 41, 54), ("https://" + "b" * 64 + ".com", 76),
])  # fmt: skip
def test_after_a_match_that_is_not_a_url_the_next_url_counts(skipped: str, count: int) -> None:
    assert status_length(f"{skipped} {HOST}/x") == count + 1 + 23


@pytest.mark.parametrize(("text", "counted"), [
    ("@a@b.org@x @bob@example.org", "@a@b.org@x @bob"),
    ("@a@" + "b" * 254 + " @bob@example.org", "@a@" + "b" * 254 + " @bob"),
    (f"{HOST}/@alice@example.org @bob@example.org", "x" * 23 + " @bob"),
    (f"{HOST}/a.@alice@example.org @bob@example.org", "x" * 23 + " @bob"),  # overlapping
])  # fmt: skip
def test_after_a_mention_that_does_not_count_the_next_one_does(text: str, counted: str) -> None:
    assert countable_text(text) == counted


def test_the_longest_top_level_domain_is_taken() -> None:
    # 嘉里 and भारत are top-level domains too, and what follows them is no ASCII letter
    assert status_length("https://example.嘉里大酒店/x") == 23
    assert status_length("https://example.भारतम्/x") == 23


def test_the_top_level_domains_are_twitter_texts() -> None:
    got = tlds()
    assert len(got) == len(set(got)) == 1574
    assert {"com", "social", "de", "xyz", "中国", "भारतम्"} <= set(got)
    assert all(t == t.strip() and "." not in t and "#" not in t and " " not in t for t in got)


@pytest.mark.parametrize(("text", "count"), [
    ("é\r\nb", 3), ("🇩a", 2), ("🇩🇪🇫🇷🇮", 3), ("🇩\u0301🇪", 2),
    ("😀\u200d\u200d😀", 2), ("😀\u200d😀\u200d😀", 1), ("😀\u200da", 2),
    ("1\u20e3", 1), ("1\ufe0f\u20e3", 1),  # an enclosing mark: a keycap
    ("a\u2028\u0301", 3), ("a\u2029\u0301", 3),  # line and paragraph separators: controls ("👍\u0301\u200d👍", 1), ("a\u0301\u200d😀", 2),
])  # fmt: skip
def test_clusters_at_their_edges(text: str, count: int) -> None:
    assert clusters(text) == count == len(regex.findall(r"\X", text))
