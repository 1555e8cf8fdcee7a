"""How Mastodon counts a status against the instance's limit. Pure.

Mastodon's ``StatusLengthValidator`` (app/validators/status_length_validator.rb) measures
``spoiler_text + text`` after rewriting two kinds of entity in the text:

* every URL that twitter-text 3.1 extracts *with a scheme* (``extract_url_without_protocol:
  false``), with Mastodon's own path and query rules (config/initializers/twitter_regex.rb),
  becomes 23 ``x`` (``characters_reserved_per_url``), however long or short it is;
* every mention ``@user@domain`` (``Account::MENTION_RE``, app/lib/extractor.rb) becomes
  ``@user``: the domain does not count (unless it is longer than 253 characters);

then counts grapheme clusters (``each_grapheme_cluster.size``), not code points.

Counting *less* than the server gets a part refused (422), so where pln cannot be sure it
counts more: a cluster is only joined for rules that hold in every Unicode version Mastodon
runs on (combining marks, variation selectors, ZWJ emoji of the common emoji blocks, skin
tones, flags, CR LF); everything else counts per code point. The URL and mention rules are
Mastodon's own regular expressions, so they agree both ways.

What that means for a writer: ``https://a.co`` counts 23, ``http://localhost/…`` or
``http://x.y`` (no known top-level domain) and ``www.example.org`` (no scheme) count as
written; the URL ends before trailing ``. , ; : ! ? ' " ) ] ~ & = $ % |`` and before ``(``
or ``)`` that do not balance, but non-ASCII punctuation right after a path (``…/page—next``,
``…/page…``) belongs to the URL; a host ends at anything that is not a host character, so
``https://example.org—next`` is a URL of 19 characters and ``—next`` counts as written.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib.resources import files
from typing import Any

import regex  # type: ignore[import-untyped]

URL_LENGTH = 23  # Mastodon's URL_PLACEHOLDER_CHARS, advertised as characters_reserved_per_url
_MAX_URL_LENGTH = 4096  # twitter-text: a longer URL is not a URL
_MAX_TCO_SLUG_LENGTH = 40
_MAX_DOMAIN_LENGTH = 253  # Extractor::MAX_DOMAIN_LENGTH: a longer mention domain counts

# twitter-text's character classes (rb/lib/twitter-text/regex.rb, 3.1.0)
_UNICODE_SPACES = ("\\x09-\\x0D\\x20\\x85\\xA0\\u1680\\u180E\\u2000-\\u200A\\u2028\\u2029"
                   "\\u202F\\u205F\\u3000")
_DIRECTIONAL = "\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069"
_INVALID = "\\uFFFE\\uFEFF\\uFFFF"
_PUNCTUATION = "!\"#$%&'()*+,\\-./:;<=>?@\\[\\]^_`{|}~"
_LATIN_ACCENTS = ("\\xC0-\\xD6\\xD8-\\xF6\\xF8-\\xFF\\u0100-\\u024F\\u0253\\u0254\\u0256\\u0257"
                  "\\u0259\\u025B\\u0263\\u0268\\u026F\\u0272\\u0289\\u028B\\u02BB\\u0300-\\u036F"
                  "\\u1E00-\\u1EFF")
# Mastodon's UCHARS: what a query may hold besides ASCII
_UCHARS = ("\\xA0-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFEF\\U00010000-\\U0001FFFD"
           "\\U00020000-\\U0002FFFD"
           "\\U00030000-\\U0003FFFD\\U00040000-\\U0004FFFD\\U00050000-\\U0005FFFD"
           "\\U00060000-\\U0006FFFD\\U00070000-\\U0007FFFD\\U00080000-\\U0008FFFD"
           "\\U00090000-\\U0009FFFD\\U000A0000-\\U000AFFFD\\U000B0000-\\U000BFFFD"
           "\\U000C0000-\\U000CFFFD\\U000D0000-\\U000DFFFD\\U000E1000-\\U000EFFFD"
           "\\uE000-\\uF8FF\\U000F0000-\\U000FFFFD\\U00100000-\\U0010FFFD")
_SCHEMES = "https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini"


def _balanced(general: str) -> str:
    return f"\\((?:{general}+|(?:{general}*\\({general}+\\){general}*))\\)"


def _url_pattern(tlds: list[str]) -> str:
    dvc = f"[^{_DIRECTIONAL}{_PUNCTUATION}\\x00-\\x1F\\x7F{_INVALID}{_UNICODE_SPACES}]"
    # twitter-text's (?:(?:C(?:[_-]|C)*)?C\.): the same labels, without nested backtracking
    subdomain = f"(?:{dvc}(?:[_-]*{dvc})*\\.)"
    domain_name = f"(?:{dvc}(?:-*{dvc})*\\.)"
    tld = "|".join(regex.escape(t) for t in sorted(tlds, key=len, reverse=True))
    domain = (f"(?:{subdomain}*{domain_name}(?:(?:{tld})(?=[^0-9a-z@+-]|$)|xn--[0-9a-z]+))")
    # Mastodon replaces twitter-text's path characters; its ending characters still take
    # twitter-text's own balanced parentheses (defined before Mastodon redefines them).
    general = "[^\\p{White_Space}<>()?]"
    old_general = (f"[a-z\\p{{Script=Cyrillic}}0-9!*';:=+,.$/%#\\[\\]\\p{{Pd}}_~&|@"
                   f"{_LATIN_ACCENTS}]")
    ending = (f"(?:[^\\p{{White_Space}}()?!*\"'「」<>;:=,.$%\\[\\]~&|@]"
              f"|{_balanced(old_general)})")
    path = f"(?:{general}*(?:{_balanced(general)}{general}*)*{ending}|{general}+/)"
    query = f"[a-z0-9!?*'();:&=+$/%#\\[\\]\\-_.,~|@^{_UCHARS}]"
    query_end = f"[a-z0-9_&=#/\\-{_UCHARS}]"
    preceding = f"(?:[^A-Z0-9@＠$#＃{_INVALID}]|[{_DIRECTIONAL}]|^)"
    return (f"{preceding}(?P<url>(?P<scheme>(?:{_SCHEMES})://)?(?P<domain>{domain})"
            f"(?::[0-9]+)?(?:/{path}*)?(?:\\?{query}*{query_end})?)")


def tlds() -> list[str]:
    """The top-level domains a URL may end with (tlds.txt: twitter-text 3.1.0's list)."""
    text = files("companion.reflections").joinpath("tlds.txt").read_text("utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@cache
def _url_re() -> Any:
    return regex.compile(_url_pattern(tlds()), regex.IGNORECASE | regex.VERSION0)


_WORD = "[\\p{L}\\p{M}\\p{Nd}\\p{Pc}]"  # Ruby's [[:word:]]
_MENTION = regex.compile(
    f"(?<![=/]|{_WORD})@(?P<user>(?i:[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*))"
    f"(?:@(?P<domain>{_WORD}+(?:[.-]+{_WORD}+)*))?", regex.VERSION0)
_END_MENTION = regex.compile(f"[@＠]|[{_LATIN_ACCENTS}]|://")
_TCO = regex.compile("https?://t\\.co/([a-z0-9]+)", regex.IGNORECASE)


def _urls(text: str) -> list[tuple[int, int]]:
    """Where the URLs Mastodon counts as ``URL_LENGTH`` are: (start, end) pairs."""
    if ":" not in text:
        return []
    out = []
    for m in _url_re().finditer(text):
        if not m.group("scheme"):  # a match without a scheme still consumes its text
            continue
        url, start = m.group("url"), m.start("url")
        tco = _TCO.match(url)
        if tco:
            if len(tco.group(1)) > _MAX_TCO_SLUG_LENGTH:
                continue
            url = tco.group(0)
        if not _valid_domain(len(url), m.group("domain")):
            continue
        out.append((start, start + len(url)))
    return out


def _valid_domain(url_length: int, domain: str) -> bool:
    """twitter-text's is_valid_domain: the host converts to IDNA and the URL, with the
    host so converted, is at most 4096 characters."""
    try:
        ascii_length = len(domain.encode("idna"))
    except UnicodeError:
        return False
    return url_length + max(0, ascii_length - len(domain)) <= _MAX_URL_LENGTH


def _mentions(text: str) -> list[tuple[int, int, str]]:
    """Where the mentions are: (start, end, what Mastodon counts instead)."""
    if "@" not in text:
        return []
    out = []
    for m in _MENTION.finditer(text):
        if _END_MENTION.match(text, m.end()):
            continue
        domain = m.group("domain")
        if domain and len(domain) > _MAX_DOMAIN_LENGTH:
            continue
        out.append((m.start(), m.end(), "@" + m.group("user")))
    return out


def countable_text(text: str, url_length: int = URL_LENGTH) -> str:
    """The text as Mastodon measures it: URLs as ``url_length`` x's, mentions without domain."""
    entities = [(s, e, "x" * url_length) for s, e in _urls(text)] + _mentions(text)
    if not entities:
        return text
    out, pos = [], 0
    for start, end, instead in sorted(entities):
        if start < pos:  # twitter-text's remove_overlapping_entities: the earlier one stays
            continue
        out += [text[pos:start], instead]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def status_length(text: str, url_length: int | None = URL_LENGTH) -> int:
    """What the server counts for ``text`` (None: a server that counts everything as
    written, code point by code point)."""
    if url_length is None:
        return len(text)
    return clusters(countable_text(text, url_length))


# ----- grapheme clusters (UAX #29), the rules that hold in every Unicode version ----------------

# Extended_Pictographic is defined ahead for code points not yet assigned, so it does not move
# between Unicode versions; Emoji_Modifier and Regional_Indicator are fixed sets.
_PICTOGRAPHIC = regex.compile(r"\p{Extended_Pictographic}")
_EXTEND = regex.compile(r"[\u200c\u200d\p{Emoji_Modifier}]")
_REGIONAL = regex.compile(r"\p{Regional_Indicator}")
_ZWJ = "\u200d"


def _extend(ch: str) -> bool:
    """Joins the cluster before it (Extend, ZWJ): combining marks by Python's own Unicode
    data, which is never newer than the server's (Grapheme_Extend grows with new marks)."""
    return bool(_EXTEND.match(ch)) or unicodedata.category(ch) in ("Mn", "Me")


def _control(ch: str) -> bool:
    """Control: a cluster of its own (UAX #29 GB4, GB5). A code point unassigned in Python's
    Unicode data counts as one too: some are (reserved default ignorables, U+E0080…), and
    the server may know it as anything."""
    return ch not in "\u200c\u200d" and unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cf",
                                                                     "Cn")


def clusters(text: str) -> int:
    """How many grapheme clusters ``text`` has, never fewer than Mastodon counts."""
    if text.isascii():
        return len(text) - text.count("\r\n")
    n = 0
    prev = ""
    regional = 0  # regional indicators in a row
    picto = False  # the cluster ends with a pictograph and Extend characters
    linked = False  # ... and then one ZWJ: a pictograph joins it (GB11)
    for ch in text:
        is_ri = bool(_REGIONAL.match(ch))
        if not prev:
            joined = False
        elif prev == "\r" and ch == "\n":
            joined = True
        elif _control(prev) or _control(ch):
            joined = False
        elif _extend(ch):
            joined = True
        elif is_ri and regional % 2 == 1:
            joined = True  # a flag: two regional indicators
        else:
            joined = linked and bool(_PICTOGRAPHIC.match(ch))
        if not joined:
            n += 1
        if joined and ch == _ZWJ:
            linked, picto = picto, False
        else:
            linked = False
            if not joined or not _extend(ch):
                picto = bool(_PICTOGRAPHIC.match(ch))
        regional = regional + 1 if is_ri else 0
        prev = ch
    return n
