"""The rules of ids (PRODUCT.md: "short and stable, a few characters of a hash; any unique
prefix of at least 4 characters is accepted"), against hashlib/base64."""

from __future__ import annotations

import base64
import hashlib

import pytest

from companion.errors import AmbiguousIdError, NotFoundError, UsageError
from companion.ids import ITEM_ID_LEN, MIN_PREFIX, SOURCE_ID_LEN, digest, resolve_prefix, short_id

_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
                                b"0123456789abcdefghjkmnpqrstvwxyz")


def reference(text: str, length: int) -> str:
    """Crockford's base32 (lower case) of the SHA-1 of the UTF-8 text, cut to ``length``."""
    raw = base64.b32encode(hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest())
    return raw.translate(_TO_CROCKFORD).decode()[:length]


def test_the_id_lengths_people_read() -> None:
    assert (MIN_PREFIX, SOURCE_ID_LEN, ITEM_ID_LEN) == (4, 6, 8)
    assert len(short_id("x", SOURCE_ID_LEN)) == 6 and len(short_id("x", ITEM_ID_LEN)) == 8


@pytest.mark.parametrize("length", range(1, 33))
def test_digest_of_every_length(length: int) -> None:
    for text in ("", "a", "https://blog.example/posts/1", "é€\U0001f600", "\ud800 broken"):
        assert digest(text, length) == reference(text, length)
        assert short_id(text, length) == reference(text, length)


def test_default_digest_is_the_whole_32_characters() -> None:
    assert digest("abc") == reference("abc", 32) and len(digest("abc")) == 32


def test_ids_never_use_letters_people_confuse() -> None:
    seen = set("".join(digest(str(n)) for n in range(500)))
    assert seen <= set("0123456789abcdefghjkmnpqrstvwxyz")
    assert not seen & set("ilou")
    assert len(seen) == 32  # and every one of the 32 appears


IDS = ["abcd1234", "abcd5678", "abce0000", "zzzz9999", "abc1", "abc1x000"]


@pytest.mark.parametrize(("prefix", "found"), [
    ("abcd1", "abcd1234"), ("ABCD5", "abcd5678"), ("  abce ", "abce0000"), ("zzzz", "zzzz9999"),
    ("abcd1234", "abcd1234"),
    ("abc1", "abc1"),  # an id that is another's prefix is found by its whole self
    ("abc1x", "abc1x000"),
])  # fmt: skip
def test_a_unique_prefix_finds_its_id(prefix: str, found: str) -> None:
    assert resolve_prefix(prefix, IDS, "item") == found
    assert resolve_prefix(prefix, iter(IDS), "item") == found  # any iterable


def test_a_prefix_shorter_than_four_is_refused() -> None:
    for prefix in ("", "a", "ab", "abc", " abc "):
        with pytest.raises(UsageError) as e:
            resolve_prefix(prefix, IDS, "item")
        assert e.value.message == (f"item id {prefix!r} is too short: give at least 4 characters")
        assert e.value.exit_code == 2


def test_no_match_is_not_found() -> None:
    with pytest.raises(NotFoundError) as e:
        resolve_prefix("qqqq", IDS, "source")
    assert e.value.message == "no source with id 'qqqq'"
    with pytest.raises(NotFoundError):
        resolve_prefix("abcd", [], "item")


def test_an_ambiguous_prefix_names_five_candidates_in_order() -> None:
    many = [f"abcd{n}" for n in (9, 3, 7, 1, 5, 2, 8)]
    with pytest.raises(AmbiguousIdError) as e:
        resolve_prefix("ABCD", many, "item")
    assert e.value.message == (
        "item id 'ABCD' is ambiguous (abcd1, abcd2, abcd3, abcd5, abcd7…): give more characters")
    with pytest.raises(AmbiguousIdError) as e:
        resolve_prefix("abcd", ["abcd1234", "abcd5678"], "item")
    assert "(abcd1234, abcd5678…)" in e.value.message
    assert e.value.exit_code == 2
