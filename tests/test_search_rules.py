"""The rules of search folding (README: "in any case and with or without accents"), against
unicodedata: NFKD compatibility decomposition (UAX #15), the combining diacritical marks
removed (the Unicode blocks "Combining Diacritical Marks" and its Extended, Supplement, for
Symbols and Half Marks), then full case folding (CaseFolding.txt, str.casefold)."""

from __future__ import annotations

import random
import unicodedata

import pytest

from companion.search import fold, query_words, search_text

# Blocks.txt: the blocks of combining diacritical marks
DIACRITIC_BLOCKS = [(0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF),
                    (0xFE20, 0xFE2F)]


def is_diacritic(c: str) -> bool:
    return any(lo <= ord(c) <= hi for lo, hi in DIACRITIC_BLOCKS)


def reference(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not is_diacritic(c)).casefold()


@pytest.mark.parametrize(("text", "folded"), [
    ("Élève", "eleve"), ("ÉLÈVE", "eleve"), ("élève", "eleve"),
    ("Straße", "strasse"), ("STRASSE", "strasse"), ("ẞ", "ss"),  # casefold, not lower
    ("côté", "cote"), ("Über", "uber"), ("façade", "facade"), ("mañana", "manana"),
    ("Ångström", "angstrom"), ("naïve", "naive"), ("Dvořák", "dvorak"), ("Łódź", "łodz"),
    ("ﬁnance", "finance"), ("Ｆｕｌｌ", "full"), ("x²", "x2"), ("①", "1"),  # NFKD
    ("ΛΌΓΟΣ", "λογοσ"), ("Ωμέγα", "ωμεγα"), ("İstanbul", "istanbul"),
    ("Plain ASCII", "plain ascii"), ("", ""),
    ("が", "か\u3099"),  # a voiced kana is another letter: its mark is not a diacritic
    # marks outside those blocks are parts of letters
    ("हिंदी", "हिंदी"), ("日本語", "日本語"),
])  # fmt: skip
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert reference(text) == folded


def test_fold_agrees_with_unicodedata_over_the_latin_greek_and_cyrillic_blocks() -> None:
    for cp in range(0x00A0, 0x0530):
        c = chr(cp)
        assert fold(c) == reference(c), (hex(cp), unicodedata.name(c, "?"))
        assert fold("a" + c + "B") == reference("a" + c + "B"), hex(cp)


def test_fold_agrees_with_unicodedata_on_random_text() -> None:
    rnd = random.Random(19)
    pool = [chr(cp) for cp in range(0x20, 0x3000) if not 0xD800 <= cp < 0xE000]
    pool += list("日本語のテキスト가나다ﬁﬂＡＢＣ①②ẞß")
    for _ in range(3000):
        text = "".join(rnd.choice(pool) for _ in range(rnd.randint(0, 12)))
        assert fold(text) == reference(text), ascii(text)


def test_ascii_folds_to_lower_case() -> None:
    text = "".join(chr(c) for c in range(128))
    assert fold(text) == text.lower() == reference(text)


def test_folding_twice_changes_nothing() -> None:
    for text in ("Élève Straße ﬁ ΐ İ ǅ", "ᾀ ǰ ŉ", "plain"):
        assert fold(fold(text)) == fold(text)


def test_query_words_are_folded_and_split_on_any_whitespace() -> None:
    assert query_words("  Élève\tSTRASSE\n ﬁn ") == ["eleve", "strasse", "fin"]
    assert query_words("") == []
    assert query_words("a\u3000b") == ["a", "b"]  # an ideographic space separates words too


def _rec(**kw: object) -> dict[str, object]:
    rec: dict[str, object] = {"title": "", "text": "", "cw": "",
                              "author": {"name": "", "handle": ""}}
    rec.update(kw)
    return rec


def test_every_searched_field_is_searched() -> None:
    rec = _rec(title="Fractions", text="Paper strips", cw="Long Read",
               author={"name": "Dana Élise", "handle": "@dana@Math.example"})
    blob = search_text(rec)
    for words in ("fractions", "paper strips", "long read", "dana elise", "@dana@math.example"):
        assert words in blob, words
    # fields do not run into each other
    assert "fractionspaper" not in blob and "stripslong" not in blob and "readdana" not in blob
    assert "elise@dana" not in blob


def test_the_text_searched_is_the_records_text_else_its_words_else_its_html() -> None:
    assert "kept" in search_text(_rec(text="kept", words="not this"), "<p>nor this</p>")
    assert "not this" not in search_text(_rec(text="kept", words="not this"))
    assert "words" in search_text(_rec(text="", words="Words"), "<p>not this</p>")
    assert "not this" not in search_text(_rec(text="", words="Words"), "<p>not this</p>")
    blob = search_text(_rec(text=""), "<p>From <b>HT</b>ML &amp; Élan</p>")
    assert "from html & elan" in " ".join(blob.split())
    assert search_text(_rec(text=""), "").split() == []


def test_missing_fields_are_empty() -> None:
    assert search_text({}).split() == []
    assert search_text({"author": None, "title": "T"}).split() == ["t"]
