"""Short, stable ids (a few characters of a hash) and unique-prefix lookup."""

from __future__ import annotations

from collections.abc import Iterable

from companion.errors import AmbiguousIdError, NotFoundError, UsageError

MIN_PREFIX = 4
SOURCE_ID_LEN = 6
ITEM_ID_LEN = 8  # 40 bits: ~0.5% chance of one collision at 100k items; collisions are extended

# Lowercase base32 in Crockford's alphabet (no i, l, o, u: ids are read and typed by people).
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # every ten bits as two characters


def digest(text: str, length: int = 32) -> str:
    """The first ``length`` characters (at most 32) of the base32 (Crockford, lowercase)
    sha1 digest of ``text``."""
    import hashlib  # lazy: loading OpenSSL costs ~10 ms and listing needs no hashing

    raw = hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest()
    pairs = (length + 1) // 2
    # the top 10*pairs bits, most significant first: the same text as base64.b32encode
    # gives, at a fraction of its cost (sync computes ids for every entry)
    n = int.from_bytes(raw, "big") >> (160 - 10 * pairs)
    out = "".join([_PAIRS[(n >> s) & 1023] for s in range(10 * pairs - 10, -1, -10)])
    return out if length == 2 * pairs else out[:length]


def short_id(text: str, length: int) -> str:
    """A ``length``-character id derived from ``text``."""
    return digest(text, length)


def resolve_prefix(prefix: str, ids: Iterable[str], what: str) -> str:
    """Return the one id in ``ids`` that starts with ``prefix`` (at least 4 characters)."""
    p = prefix.strip().lower()
    if len(p) < MIN_PREFIX:
        raise UsageError(
            f"{what} id {prefix!r} is too short: give at least {MIN_PREFIX} characters",
            subject=prefix,
        )
    matches = [i for i in ids if i.startswith(p)]
    if not matches:
        raise NotFoundError(f"no {what} with id {prefix!r}", subject=prefix)
    if p in matches:
        return p
    if len(matches) > 1:
        shown = ", ".join(sorted(matches)[:5])
        raise AmbiguousIdError(
            f"{what} id {prefix!r} is ambiguous ({shown}…): give more characters", subject=prefix
        )
    return matches[0]
