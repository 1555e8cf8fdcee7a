"""Benchmark the inbox store at scale (issue 2).

Builds a store of N realistic items (~1.5 KB each: mixed feed entries and statuses over
26 weeks) in a fresh PLN_HOME, then measures as a user would see it:

  * `pln inbox --limit 50` (and `--json`): process wall time and peak RSS (a child process);
  * writing 1,000 new items into that store (sync's merge + put + atomic flush, in-process);
  * loading every item once (what search will cost).

    python bench/store.py            # 100,000 items
    python bench/store.py --items 20000 --keep /tmp/plnbench

Goals (issue 2): listing ≤ 0.35 s and ≤ 150 MB; writing 1,000 items ≤ 0.5 s.

    python bench/store.py --dense    # 100,000 items in ONE ISO week (issue 14)

The dense store is built as 10 writes of 10,000 items (10 big syncs, or the first import of
a big archive), every item published in the same ISO week (2023-W46, where feedfarm's items
fall), at random times. On it: `pln inbox -n 50`, two searches and `pln show`, then real
`pln sync` runs against ../shared/bench/feedfarm.py: 4 feeds x 50 items (200 new items
into that week), then /bump (4 new items). For each: wall time, peak RSS and the bytes the
command wrote into the store (the size of every file it created or replaced).

Goals (issue 14): peak RSS ≤ 150 MB for every command; `pln inbox -n 50` ≤ 0.35 s and search
≤ 1 s; a sync that adds k items writes O(k) bytes plus a bounded constant (no whole-week
rewrite).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _measure import PLN, compile_bytecode, pln_env, run, table

from companion.models import Author, ItemData, Media
from companion.paths import Home
from companion.service import Companion

WORDS = ["learning", "students", "teacher", "classroom", "feedback", "assessment", "inquiry", "curriculum", "design", "reading", "writing", "math", "science", "history", "research", "practice", "reflection", "community", "network", "professional", "growth", "équipe", "élève", "pédagogie", "lecture", "collaboration", "project", "portfolio"]


# the 60 sources the generated items come from (ids s000…s059), so --source works
SOURCES_TOML = "".join(
    f'[[sources]]\nurl = "https://blog{i}.example/feed"\nid = "s{i:03d}"\n\n' for i in range(60)
)


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def make_item(rng: random.Random, i: int, now: datetime, weeks: int) -> tuple[ItemData, str]:
    published = now - timedelta(seconds=rng.randrange(weeks * 7 * 86400))
    is_status = i % 2 == 0
    paras = [sentence(rng, rng.randint(12, 22)) for _ in range(4)]
    if i % 500 == 7:
        paras[1] += " Ungrading changed how my students see their portfolio."  # rare: search bench
    html = "".join(f"<p>{p} <a href='https://blog{i % 97}.example/post/{i}'>link</a></p>" for p in paras)
    text = "\n\n".join(f"{p} link" for p in paras)  # what to_text(html) gives, without its cost
    source = f"s{i % 60:03d}"
    if is_status:
        data = ItemData(
            key=f"https://social{i % 13}.example/users/u{i % 400}/statuses/{i:x}{i * 7:x}",
            kind="status",
            url=f"https://social{i % 13}.example/@u{i % 400}/{i}",
            author=Author(f"Person {i % 400}", f"@u{i % 400}@social{i % 13}.example",
                          f"https://social{i % 13}.example/@u{i % 400}"),
            html=html,
            text=text,
            published=published,
            tags=tuple(rng.sample(["edtech", "pln", "edchat", "mtbos", "scichat"], 2)),
            media=(Media("https://files.example/m.png", "a chart of reading growth"),)
            if i % 5 == 0 else (),
            link=f"https://blog{i % 97}.example/post/{i}",
        )
    else:
        data = ItemData(
            key=f"https://blog{i % 97}.example/post/{i}",
            kind="feed",
            url=f"https://blog{i % 97}.example/post/{i}",
            title=sentence(rng, 8),
            author=Author(f"Blogger {i % 97}"),
            html=html,
            text=text,
            published=published,
            tags=("teaching",),
            link=f"https://blog{i % 97}.example/post/{i}",
        )
    return data, source


def build(home: Path, n: int, now: datetime, weeks: int) -> float:
    rng = random.Random(42)
    os.environ["PLN_HOME"] = str(home)
    c = Companion(Home(home, home))
    t0 = time.perf_counter()
    with c.writing("bench build"):
        batch: dict[str, list[ItemData]] = {}
        for i in range(n):
            data, source = make_item(rng, i, now, weeks)
            batch.setdefault(source, []).append(data)
        for source, items in batch.items():
            c._store_items(source, tuple(items), now)
    return time.perf_counter() - t0


DENSE_WEEK_START = datetime(2023, 11, 13, tzinfo=UTC)  # Monday of 2023-W46 (feedfarm's week)


def build_dense(home: Path, n: int, cycles: int) -> float:
    """``n`` items published in one ISO week, written in ``cycles`` commits."""
    rng = random.Random(42)
    os.environ["PLN_HOME"] = str(home)
    now = DENSE_WEEK_START + timedelta(days=8)
    t0 = time.perf_counter()
    per = n // cycles
    for cycle in range(cycles):
        c = Companion(Home(home, home))
        with c.writing("bench build"):
            batch: dict[str, list[ItemData]] = {}
            for i in range(cycle * per, (cycle + 1) * per):
                data, source = make_item(rng, i, now, 1)
                data = replace(data, published=DENSE_WEEK_START
                               + timedelta(seconds=rng.randrange(7 * 86400)))
                batch.setdefault(source, []).append(data)
            for source, items in batch.items():
                c._store_items(source, tuple(items), now)
        c.close()
    return time.perf_counter() - t0


def snapshot(home: Path) -> dict[str, tuple[int, int, int]]:
    """(inode, size, mtime) of every file of the store."""
    out = {}
    for p in [*home.glob("*.json"), *(home / "inbox").glob("*.json")]:
        st = p.stat()
        out[str(p)] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return out


def written(before: dict[str, tuple[int, int, int]], after: dict[str, tuple[int, int, int]]) -> int:
    """Bytes of the files created or replaced between two snapshots."""
    return sum(v[1] for k, v in after.items() if before.get(k) != v)


def dense(args: argparse.Namespace) -> None:
    """The dense store (issue 14): every command's wall, peak RSS and bytes written."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from sync_feeds import DEFAULT_FARM, Farm

    home = args.keep or Path(tempfile.mkdtemp(prefix="pln-bench-dense-"))
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / "config.toml").write_text("")  # (only the farm's feeds: a sync must reach them all)
    t_build = float(subprocess.run(
        [sys.executable, __file__, "--items", str(args.items), "--build-dense", str(home)],
        check=True, capture_output=True, text=True).stdout)
    files = list((home / "inbox").glob("items-*.json"))
    size = sum(p.stat().st_size for p in (home / "inbox").iterdir())
    print(f"dense store: {args.items:,} items in one ISO week, {size / 1e6:.0f} MB on disk in "
          f"{len(files)} segments (built in 10 writes, {t_build:.1f} s)")
    env = pln_env(home)
    compile_bytecode()
    first = subprocess.run([sys.executable, "-m", "companion", "inbox", "-n", "1", "--json"],
                           env=env, capture_output=True, text=True, check=True).stdout
    item = first.split('"id": "', 1)[1].split('"', 1)[0]
    rows = [
        ("pln inbox -n 50", ["inbox", "-n", "50"]),
        ('pln inbox --search "ungrading portfolio"', ["inbox", "--search", "ungrading portfolio"]),
        ('pln inbox --search "growth équipe" -n 50', ["inbox", "--search", "growth équipe", "-n", "50"]),
        (f"pln show {item} --no-mark", ["show", item, "--no-mark"]),
    ]
    table(rows, env)

    farm = Farm(args.feedfarm or DEFAULT_FARM, 4, 50, 0.0)
    try:
        opml = home / "farm.opml"
        opml.write_bytes(farm.get("/feeds.opml"))
        subprocess.run([sys.executable, "-m", "companion", "source", "import", str(opml)],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        for label, bump in (("pln sync: 200 new items into the week", False),
                            ("pln sync after /bump: 4 new items", True)):
            if bump:
                farm.get("/bump")
            before = snapshot(home)
            r = run([*PLN, "sync"], env, check=True)
            wrote = written(before, snapshot(home))
            said = r.stdout.strip() or r.stderr.strip()  # (sync results go to stdout)
            summary = said.splitlines()[-1] if said else ""
            print(f"{label:44} {r.wall:>18.3f} s {r.rss_mb:>7.0f} MB   wrote {wrote / 1e6:.2f} MB"
                  f"   ({summary})")
    finally:
        farm.stop()
    if not args.keep:
        shutil.rmtree(home)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--weeks", type=int, default=26)
    ap.add_argument("--keep", type=Path, help="build the store here and keep it")
    ap.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--build-dense", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--dense", action="store_true",
                    help="the dense store: every item in one ISO week (issue 14)")
    ap.add_argument("--feedfarm", type=Path, help="path to feedfarm.py (for --dense)")
    args = ap.parse_args()
    if args.build_dense:
        print(f"{build_dense(args.build_dense, args.items, 10):.1f}")
        return
    if args.dense:
        dense(args)
        return
    now = datetime.now(UTC).replace(microsecond=0)
    if args.build_only:  # runs in a child, so the measuring parent stays small (peak RSS of
        # a forked child counts the parent's memory at fork time on Linux)
        print(f"{build(args.build_only, args.items, now, args.weeks):.1f}")
        return

    home = args.keep or Path(tempfile.mkdtemp(prefix="pln-bench-"))
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / "config.toml").write_text(SOURCES_TOML)
    t_build = float(subprocess.run(
        [sys.executable, __file__, "--items", str(args.items), "--weeks", str(args.weeks),
         "--build-only", str(home)], check=True, capture_output=True, text=True).stdout)
    size = sum(p.stat().st_size for p in (home / "inbox").iterdir())
    print(f"store: {args.items:,} items over {args.weeks} weeks, {size / 1e6:.0f} MB on disk "
          f"in {len(list((home / 'inbox').glob('items-*.json')))} segments "
          f"(built in {t_build:.1f} s)")

    env = pln_env(home)
    compile_bytecode()
    rows = [
        ("pln inbox --limit 50", ["inbox", "--limit", "50"]),
        ("pln inbox --limit 50 --json", ["inbox", "--limit", "50", "--json"]),
        ("pln --help", ["--help"]),
    ]
    table(rows, env, 40, repeat=7)

    # writing 1,000 new items into the full store, as sync does (merge + put + flush)
    rng = random.Random(7)
    fresh = [make_item(rng, args.items + i, now, 1)[0] for i in range(1000)]
    c = Companion(Home(home, home))
    t0 = time.perf_counter()
    with c.writing("bench write"):
        new, _ = c._store_items("s-new", tuple(fresh), now)
    t_write = time.perf_counter() - t0
    assert new == 1000, new
    print(f"{'write 1,000 new items (in-process)':40} {t_write:>18.3f} s")

    # a full scan, the floor for search over everything
    c = Companion(Home(home, home))
    t0 = time.perf_counter()
    n = sum(1 for _ in c.store.iter_items())
    print(f"{'scan all items (in-process)':40} {time.perf_counter() - t0:>18.3f} s  ({n:,} items)")
    if not args.keep:
        shutil.rmtree(home)


if __name__ == "__main__":
    main()
