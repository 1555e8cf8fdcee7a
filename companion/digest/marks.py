""""Since the last digest": one mark per output (the terminal, a file), kept in
``digest.json`` in the home's data directory — apart from the inbox, which the digest only
reads. Written atomically (temp file + rename), so a crash leaves the old marks or the new.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson

from companion.models import iso, parse_iso
from companion.storage_io import atomic_write_bytes

MARKS_FILE = "digest.json"
OUTPUTS = ("terminal", "file")


def _read(path: Path) -> dict[str, str]:
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, orjson.JSONDecodeError):
        return {}  # unreadable: the next digest starts afresh and rewrites it
    marks = data.get("marks") if isinstance(data, dict) else None
    return {k: v for k, v in marks.items() if isinstance(v, str)} if isinstance(marks, dict) else {}


def load_mark(data_dir: Path, output: str) -> datetime | None:
    """When the previous digest to ``output`` ended, or None (none yet, or unreadable)."""
    raw = _read(data_dir / MARKS_FILE).get(output)
    if raw is None:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        return None


def save_mark(data_dir: Path, output: str, until: datetime) -> None:
    """Remember that ``output`` has seen everything up to ``until`` (never moves back)."""
    path = data_dir / MARKS_FILE
    marks = _read(path)
    old = marks.get(output)
    if old is not None and old >= iso(until):
        return
    marks[output] = iso(until)
    atomic_write_bytes(path, orjson.dumps({"version": 1, "marks": marks},
                                          option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
