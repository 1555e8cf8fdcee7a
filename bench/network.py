"""Benchmark `pln discover` at 100,000 items (issue 17).

Builds (or reuses, with --home) the store of bench/store.py: 100,000 realistic items, mixed
feed entries and statuses over 26 weeks, statuses sharing blog links (and a `#edtech` source
added to its config, so 400 people and four hashtags have evidence). With no account logged
in, discover works from the inbox and the sources alone (no network), so this measures its
own cost: reading the period's light records and computing the suggestions. Each command is a
fresh `pln` process; median wall time of 5 runs and peak RSS:

    python bench/network.py
    python bench/network.py --home /tmp/plnbench      # a store built by bench/store.py --keep

Goal: like the digest (issue 16), a month of suggestions in about a second or two.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _measure import bench_home, compile_bytecode, pln_env, store_args, table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    store_args(ap)
    args = ap.parse_args()

    tmp, home = bench_home(args, "pln-bench-network-")
    cfg = home / "config.toml"
    if "#edtech" not in cfg.read_text() and 'tag = "edtech"' not in cfg.read_text():
        # one followed hashtag, so every #edtech status is evidence and the other four
        # hashtags of the generated statuses co-occur with it: the heaviest case
        with cfg.open("a") as f:
            f.write('\n[[sources]]\ntag = "edtech"\nhost = "social0.example"\n')
    env = pln_env(home)
    compile_bytecode()
    rows = [
        ("pln discover --since 7d --json", ["discover", "--since", "7d", "--json"]),
        ("pln discover --since 30d --json", ["discover", "--since", "30d", "--json"]),
        ("pln discover --since 30d (terminal)", ["discover", "--since", "30d"]),
    ]
    print(f"{args.items:,} items in {home}")
    table(rows, env, 40)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
