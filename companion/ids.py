"""Short, stable ids (a few characters of a hash) and unique-prefix lookup."""

from __future__ import annotations

import base64
from collections.abc import Iterable

from companion.errors import AmbiguousIdError, NotFoundError, UsageError

MIN_PREFIX = 4
SOURCE_ID_LEN = 6
ITEM_ID_LEN = 8  # 40 bits: ~0.5% chance of one collision at 100k items; collisions are extended

# Lowercase base32 without 0/1 look-alikes confusion: Crockford's alphabet.
_STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_TRANS = str.maketrans(_STD, _CROCKFORD)


def digest(text: str) -> str:
    """The full base32 (Crockford, lowercase) sha1 digest of ``text``."""
    import hashlib  # lazy: loading OpenSSL costs ~10 ms and listing needs no hashing

    raw = hashlib.sha1(text.encode("utf-8")).digest()
    return base64.b32encode(raw).decode("ascii").rstrip("=").translate(_TRANS)


def short_id(text: str, length: int) -> str:
    """A ``length``-character id derived from ``text``."""
    return digest(text)[:length]


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
