"""`pln digest --format json`: the stable shape of ``Digest.as_json`` (version 1)."""

from __future__ import annotations

import orjson

from companion.digest.model import Digest


def render_json(d: Digest) -> str:
    """The digest as indented JSON (remote strings as they came, JSON-escaped)."""
    return orjson.dumps(d.as_json(), option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"
