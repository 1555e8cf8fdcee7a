"""Splitting a reflection into a numbered thread that fits the instance's limit. Pure.

Mastodon counts a status as characters, except that every URL counts as
``characters_reserved_per_url`` (23) whatever its length and a mention ``@user@domain`` as
``@user`` (its rules, and pln's reading of them, are in ``status_length``). A thread is cut at paragraph, then
sentence, then word boundaries; a cut is only ever made at whitespace, so a URL, a mention or
a hashtag (which contain none) is never split. Each part of a thread of N > 1 parts ends with
`` n/N``, and that suffix counts towards the limit too.

Mastodon counts the content warning against the same limit as the text (its
StatusLengthValidator measures ``spoiler_text + text``), and every part carries the CW, so
the CW's length is taken off every part's budget (issue 11.7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from companion.errors import UsageError
from companion.reflections.status_length import clusters, status_length

DEFAULT_MAX_CHARACTERS = 500
DEFAULT_URL_LENGTH = 23

# A token that must never be cut, even when it is longer than a part (see _atoms).
_ATOM = re.compile(r"^[(\[]?(?:https?://|[@#]\w)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?…][)\]\"'»”’]*$")

PARAGRAPH, LINE, SENTENCE, WORD = 4, 3, 2, 1


@dataclass(frozen=True)
class Limits:
    """An instance's status limits (from /api/v2/instance ``configuration.statuses``)."""

    max_characters: int = DEFAULT_MAX_CHARACTERS
    # None: the server counts a URL as written (some non-Mastodon servers do; pln falls back
    # to this after a server rejected a part for its length)
    url_length: int | None = DEFAULT_URL_LENGTH


def weighted_length(text: str, url_length: int | None = DEFAULT_URL_LENGTH) -> int:
    """The length Mastodon counts: every URL is ``url_length`` characters, a mention counts
    without its domain (None: everything as written)."""
    return status_length(text, url_length)


def suffix(n: int, total: int) -> str:
    """The numbering appended to part ``n`` of a thread of ``total``."""
    return f" {n}/{total}"


@dataclass(frozen=True)
class _Token:
    word: str
    sep: str  # the whitespace that follows the word ("" at the end)
    weight: int

    @property
    def rank(self) -> int:
        """How good a place to cut the boundary after this word is."""
        if self.sep.count("\n") >= 2:
            return PARAGRAPH
        if "\n" in self.sep:
            return LINE
        if _SENTENCE_END.search(self.word):
            return SENTENCE
        return WORD


def _tokens(text: str, limits: Limits, budget: int) -> list[_Token]:
    pieces = re.split(r"(\s+)", text.strip())
    words, seps = pieces[0::2], pieces[1::2] + [""]
    out: list[_Token] = []
    for word, sep in zip(words, seps, strict=True):
        if not word:
            continue
        weight = weighted_length(word, limits.url_length)
        if weight <= budget:
            out.append(_Token(word, sep, weight))
            continue
        if _ATOM.match(word):
            raise UsageError(
                f"{word[:40]}… is longer than a whole post ({limits.max_characters} characters) "
                "and a mention, hashtag or URL cannot be split: shorten it"
            )
        # a plain "word" longer than a part (a run without spaces): the only cut inside a word
        chunks = [word[i : i + budget] for i in range(0, len(word), budget)]
        for c in chunks[:-1]:
            out.append(_Token(c, "", len(c)))
        out.append(_Token(chunks[-1], sep, len(chunks[-1])))
    return out


def _pack(tokens: list[_Token], budget: int) -> list[str]:
    """Greedy parts of at most ``budget``: cut at the best boundary that keeps parts full.

    The best boundary is the highest-ranked one (paragraph > line > sentence > word) that
    still fills at least half a part; otherwise the last word that fits.
    """
    parts: list[str] = []
    i = 0
    while i < len(tokens):
        weight = 0
        fits: list[tuple[int, int]] = []  # (index of last token, weight up to it)
        j = i
        while j < len(tokens):
            sep_before = len(tokens[j - 1].sep) if j > i else 0
            w = weight + sep_before + tokens[j].weight
            if w > budget:
                break
            weight = w
            fits.append((j, w))
            j += 1
        if not fits:  # cannot happen: every token fits a part on its own
            raise UsageError("internal error: a word does not fit a part")
        end = fits[-1][0]
        if end < len(tokens) - 1:
            for rank in (PARAGRAPH, LINE, SENTENCE):
                best = [(k, w) for k, w in fits if tokens[k].rank >= rank]
                if best and best[-1][1] * 2 >= budget:
                    end = best[-1][0]
                    break
        parts.append(_join(tokens[i : end + 1]))
        i = end + 1
    return parts


def _join(tokens: list[_Token]) -> str:
    return "".join(t.word + t.sep for t in tokens[:-1]) + tokens[-1].word


def cw_length(cw: str) -> int:
    """What a content warning takes from each part's limit (Mastodon counts it as written,
    in grapheme clusters)."""
    return clusters(cw.strip())


def part_length(text: str, limits: Limits, cw: str = "") -> int:
    """What the server counts for one status: its text plus its content warning."""
    return weighted_length(text, limits.url_length) + cw_length(cw)


def split_thread(text: str, limits: Limits = Limits(), *, cw: str = "", first: int = 1) -> list[str]:
    """The statuses to post for ``text``: one if it fits, else a numbered thread.

    ``cw`` is the content warning every part carries: it counts against each part's limit.
    ``first`` > 1 splits the rest of a thread whose first ``first - 1`` parts are already
    posted: the parts are numbered from ``first``, of ``first - 1`` + their number.
    """
    body = text.strip()
    if not body:
        raise UsageError("nothing to post: the reflection is empty")
    room = limits.max_characters - cw_length(cw)
    if first == 1 and weighted_length(body, limits.url_length) <= room:
        return [body]
    # The suffix length depends on how many parts there are; grow the reserve until the
    # number of parts has no more digits than we reserved for.
    digits = max(1, len(str(first)))
    while True:
        budget = room - len(suffix(10**digits - 1, 10**digits - 1))
        if budget < 40:
            if cw_length(cw) and limits.max_characters - len(suffix(9, 9)) >= 40:
                raise UsageError(
                    f"the content warning ({cw_length(cw)} characters) leaves too little of "
                    f"the instance's limit of {limits.max_characters}: shorten it"
                )
            raise UsageError(f"the instance's limit of {limits.max_characters} is too small")
        parts = _pack(_tokens(body, limits, budget), budget)
        total = first - 1 + len(parts)
        if total < 10**digits:
            return [p + suffix(n, total) for n, p in enumerate(parts, first)]
        digits += 1


def strip_suffix(part: str) -> str:
    """A part without its `` n/N`` numbering (for tests and display)."""
    return re.sub(r" \d+/\d+$", "", part)


def rest_of(text: str, sent: list[str]) -> str:
    """What of ``text`` the parts ``sent`` (the first parts of its thread) do not carry.

    Every part is a piece of the text cut at whitespace plus its numbering, so the pieces are
    found in order and the rest is what follows the last one.
    """
    body = text.strip()
    pos = 0
    for part in sent:
        piece = strip_suffix(part)
        at = body.find(piece, pos)
        if at < 0:  # not a piece of this text (cannot happen for pln's own parts)
            raise UsageError("the posted parts do not match the reflection's text")
        pos = at + len(piece)
    return body[pos:].strip()
