"""Benchmark the inbox commands at 100,000 items (issue 5).

Builds (or reuses, with --home) the store of bench/store.py: 100,000 realistic items, mixed
feed entries and statuses over 26 weeks, statuses sharing blog links. Then runs each command
as a fresh `pln` process, as a user would, and prints the median wall time of 5 runs and the
peak RSS:

    pln inbox --limit 50
    pln inbox --search "two words"          (a rare pair: ~200 matches, all listed)
    pln inbox --search "two words" --limit 50   (a common pair)
    pln inbox --links --since 7d
    pln show ID
    pln read --all --source X               (on a fresh copy of the store each run)

    python bench/inbox.py
    python bench/inbox.py --home /tmp/plnbench      # reuse a store built by bench/store.py --keep

Goals (issue 5): listing ≤ 0.35 s and ≤ 150 MB; search and links over 100k ≤ 1 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _measure import bench_home, compile_bytecode, measure, pln_env, store_args


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    store_args(ap)
    args = ap.parse_args()

    tmp, home = bench_home(args, "pln-bench-inbox-")
    env = pln_env(home)
    compile_bytecode()
    first = json.loads(subprocess.run(
        [sys.executable, "-m", "companion", "inbox", "--limit", "1", "--json"], env=env,
        capture_output=True, text=True, check=True).stdout)[0]["id"]
    rows = [
        ("pln inbox --limit 50", ["inbox", "--limit", "50"], None),
        ('pln inbox --search "ungrading portfolio"', ["inbox", "--search", "ungrading portfolio"], None),
        ('pln inbox --search "growth équipe" -n 50', ["inbox", "--search", "growth équipe", "--limit", "50"], None),
        ("pln inbox --links --since 7d", ["inbox", "--links", "--since", "7d"], None),
        (f"pln show {first} --no-mark", ["show", first, "--no-mark"], None),
        ("pln inbox --all --json", ["inbox", "--all", "--json"], None),
        ("pln read --all --source s007", ["read", "--all", "--source", "s007"], "copy"),
    ]
    print(f"{args.items:,} items in {home}")
    print(f"{'command':44} {'wall (median of 5)':>20} {'peak RSS':>10}")
    for label, cmd, mode in rows:
        if mode == "copy":
            walls, peak = [], 0.0
            for _ in range(3):
                work = tmp / "copy"
                if work.exists():
                    shutil.rmtree(work)
                shutil.copytree(home, work)
                w, p = measure(cmd, {**env, "PLN_HOME": str(work)}, repeat=1)
                walls.append(w)
                peak = max(peak, p)
            wall = sorted(walls)[1]
            label += " (median of 3)"
        else:
            wall, peak = measure(cmd, env)
        print(f"{label:44} {wall:>18.3f} s {peak:>7.0f} MB")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
