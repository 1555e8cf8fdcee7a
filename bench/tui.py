"""Benchmark `pln tui` on the 100,000-item store of bench/store.py (issue 15).

Each run is a fresh process (as `pln tui` starts), driving the app headless at 160×48 with
Textual's pilot, and prints:

  * first screen: from the process start to the first frame written with the list's first
    page and the first item in the reading pane (the rest of the list is read from the
    store as the cursor comes near it);
  * next item: from the key j to the frame that shows the next item in the reading pane,
    median and 90th percentile over 300 moves (the default read-state setting: each item
    left is marked read, by the writer thread meanwhile);
  * G: going to the last item, which reads every item into the list;
  * peak memory (RSS) of the process, every item listed.

    python bench/tui.py                         # builds a store (bench/store.py) first
    python bench/tui.py --home /tmp/plnbench    # a store built by bench/store.py --keep

Goals (issue 15): first screen ≤ 1.0 s, next item ≤ 50 ms at the median, peak ≤ 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

CHILD = r"""
import time
T0 = time.perf_counter()
import asyncio, json, resource, statistics, sys
sys.path.insert(0, sys.argv[1])
from companion.inbox import ItemFilter
from companion.tui.app import PlnApp
from companion.tui.session import Session

async def main():
    app = PlnApp(Session(ItemFilter(unread_only=False)))
    done = asyncio.Event()  # set by the first frame that shows the selected item
    stamp = [0.0, 0.0]  # (wall, main-thread CPU) of that frame
    display = app._display

    def timed(screen, renderable):
        display(screen, renderable)
        scr = next((s for s in app.screen_stack if hasattr(s, "listing")), None)
        if scr is not None and scr.shown and scr.listing.current and \
                scr.shown.id == scr.listing.current.id and not done.is_set():
            stamp[:] = [time.perf_counter(), time.thread_time()]
            done.set()

    app._display = timed

    async with app.run_test(size=(160, 48)) as pilot:
        await done.wait()
        first, first_cpu = stamp[0] - T0, time.process_time()
        scr = app.inbox
        listed = len(scr.listing.items)
        moves, cpu = [], []
        for _ in range(int(sys.argv[2])):
            done.clear()
            t, c = time.perf_counter(), time.thread_time()
            app.simulate_key("j")
            await done.wait()
            moves.append(stamp[0] - t)
            cpu.append(stamp[1] - c)
        t = time.perf_counter()
        await pilot.press("G")  # the end: every item read into the list
        await pilot.pause()
        whole = time.perf_counter() - t
        n = len(scr.listing.items)
        app.session.writer.wait()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    moves.sort()
    print(json.dumps({"first": first, "first_cpu": first_cpu, "cpu": statistics.median(cpu),
                      "first_page": listed, "median": statistics.median(moves),
                      "p90": moves[int(len(moves) * 0.9)], "whole": whole, "items": n,
                      "rss": rss}))

asyncio.run(main())
"""


def run_once(home: Path, moves: int) -> dict[str, float]:
    env = {**os.environ, "PLN_HOME": str(home)}
    env.pop("NO_COLOR", None)
    t0 = time.time()
    # the child measures from its first line; the interpreter's start-up is added by main
    proc = subprocess.run([sys.executable, "-c", CHILD, str(REPO), str(moves)], check=False,
                          env=env, capture_output=True, text=True)
    wall = time.time() - t0
    if proc.returncode != 0:
        sys.exit(proc.stderr[-2000:])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall"] = wall
    return out


def interpreter_start() -> float:
    """What `python -c pass` costs here: added to the child's own clock."""
    best = 9.0
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--home", type=Path, help="a store built by `bench/store.py --keep DIR`")
    ap.add_argument("--moves", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--read-state", choices=("open", "leave", "manual"), default="leave",
                    help="tui_mark_read for the runs (leave, the default, writes every move)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="pln-bench-tui-"))
    try:
        home = args.home
        if home is None:
            home = tmp / "home"
            subprocess.run([sys.executable, str(HERE / "store.py"), "--items", str(args.items),
                            "--keep", str(home)], check=True, stdout=subprocess.DEVNULL)
        # each run gets a copy: moving through the list marks items read
        start = interpreter_start()
        runs = []
        for n in range(args.runs):
            work = tmp / f"run{n}"
            shutil.copytree(home, work, ignore=shutil.ignore_patterns("*.lock"))
            cfg = work / "config.toml"
            cfg.write_text(f'[settings]\ntui_mark_read = "{args.read_state}"\n\n'
                           + cfg.read_text(encoding="utf-8"), encoding="utf-8")
            r = run_once(work, args.moves)
            r["first"] += start
            runs.append(r)
            shutil.rmtree(work)
        runs.sort(key=lambda r: r["first"])
        mid = runs[len(runs) // 2]
        print(f"pln tui on {mid['items']:,} items (160×48, headless, tui_mark_read = "
              f"{args.read_state}), median of {args.runs} runs")
        print(f"  first screen painted      {mid['first']:.2f} s  ({mid['first_page']} items read;"
              " the rest is read as the cursor comes near)")
        print(f"  next item + render        {mid['median'] * 1000:.1f} ms median, "
              f"{mid['p90'] * 1000:.1f} ms p90 ({args.moves} moves)")
        print(f"    CPU of the app's thread {mid['cpu'] * 1000:.1f} ms median per move "
              f"(first screen: {mid['first_cpu']:.2f} s of CPU)")
        print(f"  G: every item listed      {mid['whole']:.2f} s")
        print(f"  peak memory (RSS)         {max(r['rss'] for r in runs):.0f} MB  "
              "(every item listed)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
