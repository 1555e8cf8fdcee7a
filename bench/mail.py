"""Newsletters from a Maildir: cold sync (every message new) and warm sync (nothing new).

    python bench/mail.py              # 1,000 messages
    python bench/mail.py --messages 5000

Builds a Maildir of the test suite's real-world-shaped newsletters (tests/newsletters.py:
Substack, Mailchimp ISO-8859-1 with an inline image, Buttondown Windows-1252 text), each
with its own Message-ID and date, in a fresh PLN_HOME; runs `pln sync` three times from an
empty inbox (the median is printed) and three times with nothing new. Prints numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import newsletters as nl

sys.path.insert(0, str(ROOT / "bench"))
from _measure import PLN, run


def build(box: Path, n: int, now: datetime) -> None:
    md = nl.make_maildir(box, [])
    makers = (lambda w, i: nl.substack(w, n=i), lambda w, i: nl.mailchimp_latin1(w),
              lambda w, i: nl.buttondown_cp1252(w))
    for i in range(n):
        when = now - timedelta(minutes=i)
        raw = makers[i % 3](when, i)
        # a Message-ID of its own: every message is a new item
        raw = raw.replace(b"Message-ID: <", b"Message-ID: <%d." % i, 1)
        md.add(raw)


def sync(home: Path) -> float:
    """Wall seconds of one `pln sync` on ``home``."""
    return run([*PLN, "sync"], {**os.environ, "PLN_HOME": str(home)}, cwd=ROOT, check=True).wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=1000)
    args = ap.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        box = Path(tmp) / "Maildir"
        build(box, args.messages, now)
        size = sum(p.stat().st_size for p in box.rglob("*") if p.is_file())
        cold = []
        for n in range(3):
            home = Path(tmp) / f"home{n}"
            home.mkdir()
            (home / "config.toml").write_text(
                f'[settings]\nfirst_sync_limit = {args.messages}\nfirst_sync_days = 0\n\n'
                f'[[sources]]\nmaildir = "{box}"\n')
            cold.append(sync(home))
        warm = [sync(Path(tmp) / "home0") for _ in range(3)]
    print(f"{args.messages} messages, {size / 1e6:.1f} MB in the Maildir")
    print(f"cold sync: median {statistics.median(cold):.2f} s "
          f"({statistics.median(cold) / args.messages * 1000:.2f} ms per message)")
    print(f"warm sync (nothing new): median {statistics.median(warm):.2f} s")


if __name__ == "__main__":
    main()
