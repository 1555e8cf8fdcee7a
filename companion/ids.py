"""Short, stable ids (a few characters of a hash) and unique-prefix lookup."""

from __future__ import annotations

from collections.abc import Iterable

from companion.errors import AmbiguousIdError, NotFoundError, UsageError

MIN_PREFIX = 4
SOURCE_ID_LEN = 6
ITEM_ID_LEN = 8  # 40 bits: ~0.5% chance of one collision at 100k items; collisions are extended

# Lowercase base32 in Crockford's alphabet (no i, l, o, u: ids are read and typed by people).
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def digest(text: str, length: int = 32) -> str:
    """The first ``length`` characters (at most 32) of the base32 (Crockford, lowercase)
    sha1 digest of ``text``."""
    import hashlib  # lazy: loading OpenSSL costs ~10 ms and listing needs no hashing

    raw = hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest()
    nbytes = min(20, (length * 5 + 7) // 8)
    bits = nbytes * 8
    n = int.from_bytes(raw[:nbytes], "big")
    # five-bit groups, most significant first: the same text as base64.b32encode gives, at a
    # fraction of its cost (it is pure Python, and sync computes ids for every entry)
    return "".join([_CROCKFORD[(n >> s) & 31] for s in range(bits - 5, bits - 5 * length - 1, -5)])


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
