"""Benchmark `pln digest` at 100,000 items (issue 16).

Builds (or reuses, with --home) the store of bench/store.py: 100,000 realistic items, mixed
feed entries and statuses over 26 weeks, statuses sharing blog links, plus a journal of
reflections. Then runs a 7-day digest in each format as a fresh `pln` process, as a user
would, and prints the median wall time of 5 runs and the peak RSS:

    python bench/digest.py
    python bench/digest.py --home /tmp/plnbench      # a store built by bench/store.py --keep

Goal (issue 16): a 7-day digest in ≤ 1.5 s and ≤ 200 MB.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _measure import bench_home, compile_bytecode, pln_env, store_args, table


def add_journal(home: Path, n: int = 200) -> None:
    """``n`` sent reflections over 26 weeks, as `pln post` leaves them in the journal."""
    from companion.models import iso
    from companion.paths import Home
    from companion.service import Companion

    c = Companion(Home(home, home))
    now = datetime.now(UTC)
    c.journal.lock("bench")
    for i in range(n):
        when = iso(now - timedelta(hours=i * 21))
        c.journal.put({
            "id": f"bench{i:03d}", "created": when, "updated": when, "body": f"Reflection {i}",
            "text": f"Reflection {i}", "state": "sent", "tags": ["edtech"], "cites": [],
            "reply_to": None, "visibility": "public", "cw": "",
            "accounts": [{"name": "me", "instance": "https://social0.example", "handle": "@me@social0.example",
                          "state": "sent", "parts": [{"n": 1, "state": "sent", "status_id": str(i),
                                                      "url": f"https://social0.example/@me/{i}",
                                                      "uri": f"https://social0.example/users/me/statuses/{i}"}]}],
        })
    c.journal.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    store_args(ap)
    args = ap.parse_args()

    tmp, home = bench_home(args, "pln-bench-digest-")
    if not (home / "journal.json").exists():
        add_journal(home)
    env = pln_env(home)
    compile_bytecode()
    out = tmp / "out"
    out.mkdir()
    rows = [
        ("pln digest --since 7d (terminal)", ["digest", "--since", "7d", "--no-mark"]),
        ("pln digest --since 7d --format json", ["digest", "--since", "7d", "--format", "json", "--no-mark"]),
        ("pln digest --since 7d --format md", ["digest", "--since", "7d", "--format", "md", "--no-mark"]),
        ("pln digest --since 7d -o digest.html", ["digest", "--since", "7d", "-o", str(out / "d.html"), "--no-mark"]),
        ("pln digest --since 30d --format json", ["digest", "--since", "30d", "--format", "json", "--no-mark"]),
    ]
    print(f"{args.items:,} items in {home}")
    table(rows, env)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
