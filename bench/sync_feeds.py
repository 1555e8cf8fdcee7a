#!/usr/bin/env python3
"""Benchmark `pln sync` of feeds against the standard feedfarm workload (issue 3).

    python bench/sync_feeds.py                      # 200 feeds x 50 items, latency 0 and 100 ms
    python bench/sync_feeds.py --latency 100 --feeds 50 --no-newsboat

For each latency it starts ../shared/bench/feedfarm.py on a loopback port, then runs pln as a
subprocess with a fresh PLN_HOME (sources imported from the farm's /feeds.opml):
cold (empty inbox), warm (every feed answers 304) and bump (GET /bump: one new item per feed).
When `newsboat` is on PATH it runs the same three phases with `reload-threads 8` side by side.
Prints wall time, CPU (user+sys of the child, from os.wait4), peak RSS and the pln/newsboat
ratio. A benchmark prints numbers; it asserts only that each run did the work.

Fairness: pln's modules are byte-compiled first (`compileall`), since PYTHONDONTWRITEBYTECODE
would otherwise make every run compile what changed since the last compile. The cold phase
runs --cold-runs times, each from an empty inbox/cache, and the warm phase --warm-runs times
(the median of each is reported: this machine's speed varies by ±15% from run to run; a 304
run changes nothing). newsboat stores a
feed's ETag/Last-Modified only once the feed is in its cache (on the very first reload its
UPDATE runs before the feed's row exists), so an untimed "prime" reload follows its cold run:
without it, newsboat's first warm run downloads every feed again (200, not 304).
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
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _default_farm() -> Path:
    """../shared/bench/feedfarm.py beside this checkout, else under $PLN_SHARED."""
    bases = [os.environ.get("PLN_SHARED"), REPO.parent / "shared", REPO.parents[1] / "shared"]
    for base in bases:
        if base and (Path(base) / "bench/feedfarm.py").exists():
            return Path(base) / "bench/feedfarm.py"
    return REPO.parent / "shared/bench/feedfarm.py"


DEFAULT_FARM = _default_farm()


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    code: int
    stderr: str

    def cell(self) -> str:
        return f"{self.wall:6.2f}s {self.cpu:6.2f}s {self.rss_mb:6.0f}MB"


def measure(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> Run:
    """Run a child to completion: wall clock, user+sys CPU and peak RSS of that child alone."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert proc.stderr is not None
    err = proc.stderr.read().decode("utf-8", "replace")
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, proc.returncode, err)


class Farm:
    """feedfarm.py as a subprocess on a free loopback port."""

    def __init__(self, script: Path, feeds: int, items: int, latency_ms: float) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="feedfarm-"))
        port_file = self.tmp / "port"
        self.proc = subprocess.Popen(
            [sys.executable, str(script), "--feeds", str(feeds), "--items", str(items),
             "--latency-ms", str(latency_ms), "--port", "0", "--port-file", str(port_file)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120
        while not port_file.exists() or not port_file.read_text().strip():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("feedfarm did not start: " + (self.proc.stderr.read().decode()
                                                                 if self.proc.stderr else ""))
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{port_file.read_text().strip()}"

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.base + path, timeout=30) as r:
            return r.read()

    def stats(self) -> dict[str, int]:
        return json.loads(self.get("/stats?reset=1"))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def pln_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from companion.cli.app import main; main()", *args]


def median_run(runs: list[Run]) -> Run:
    """The run with the median wall time (an odd count; the lower middle otherwise)."""
    ordered = sorted(runs, key=lambda r: r.wall)
    return ordered[(len(ordered) - 1) // 2]


def run_pln(farm: Farm, phases: list[str], workers: int | None, warm_runs: int,
            cold_runs: int = 1) -> dict[str, Run]:
    homes: list[Path] = []

    def fresh_home() -> dict[str, str]:
        home = Path(tempfile.mkdtemp(prefix="pln-bench-"))
        homes.append(home)
        env = {**os.environ, "PLN_HOME": str(home), "NO_COLOR": "1",
               "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        opml = home / "feeds.opml"
        opml.write_bytes(farm.get("/feeds.opml"))
        if workers:
            (home / "config.toml").write_text(f"[settings]\nworkers = {workers}\n")
        subprocess.run(pln_cmd("source", "import", str(opml)), env=env, check=True,
                       stdout=subprocess.DEVNULL)
        return env

    out = {}
    try:
        env = fresh_home()
        for phase in phases:
            if phase == "bump":
                farm.get("/bump")
            runs = []
            repeat = warm_runs if phase == "warm" else cold_runs if phase == "cold" else 1
            for n in range(repeat):
                if phase == "cold" and n:
                    env = fresh_home()  # every cold run starts from an empty inbox
                farm.stats()
                r = measure(pln_cmd("sync"), env)
                st = farm.stats()
                summary = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "(no output)"
                print(f"    pln {phase:5}: {summary}  [server: {st.get('200', 0)}x200 "
                      f"{st.get('304', 0)}x304]  {r.wall:.2f}s", file=sys.stderr)
                runs.append(r)
            out[phase] = median_run(runs)
    finally:
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)
    return out


def run_newsboat(farm: Farm, phases: list[str], threads: int, warm_runs: int,
                 cold_runs: int = 1) -> dict[str, Run]:
    homes: list[Path] = []

    def fresh_home() -> tuple[list[str], dict[str, str]]:
        home = Path(tempfile.mkdtemp(prefix="newsboat-bench-"))
        homes.append(home)
        (home / "urls").write_bytes(farm.get("/urls.txt"))
        (home / "config").write_text(f"reload-threads {threads}\n")
        env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
               "XDG_DATA_HOME": str(home / ".local/share")}
        cmd = ["newsboat", "-x", "reload", "-u", str(home / "urls"), "-c", str(home / "cache.db"),
               "-C", str(home / "config")]
        return cmd, env

    out = {}
    try:
        cmd, env = fresh_home()
        for phase in phases:
            if phase == "bump":
                farm.get("/bump")
            if phase == "warm" and "cold" in out:
                # newsboat keeps validators only for feeds already cached: prime (untimed).
                farm.stats()
                r = measure(cmd, env)
                st = farm.stats()
                print(f"    newsboat prime: exit {r.code}  [server: {st.get('200', 0)}x200 "
                      f"{st.get('304', 0)}x304]  {r.wall:.2f}s (not timed)", file=sys.stderr)
            runs = []
            repeat = warm_runs if phase == "warm" else cold_runs if phase == "cold" else 1
            for n in range(repeat):
                if phase == "cold" and n:
                    cmd, env = fresh_home()  # every cold run starts from an empty cache
                farm.stats()
                r = measure(cmd, env)
                st = farm.stats()
                print(f"    newsboat {phase:5}: exit {r.code}  [server: {st.get('200', 0)}x200 "
                      f"{st.get('304', 0)}x304]  {r.wall:.2f}s", file=sys.stderr)
                runs.append(r)
            out[phase] = median_run(runs)
    finally:
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feedfarm", type=Path, default=DEFAULT_FARM, help="path to feedfarm.py")
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--latency", type=float, action="append",
                    help="latency in ms (repeatable; default 0 and 100)")
    ap.add_argument("--workers", type=int, default=None,
                    help="pln [settings] workers (default: pln's own default)")
    ap.add_argument("--threads", type=int, default=8, help="newsboat reload-threads (default 8)")
    ap.add_argument("--no-newsboat", action="store_true", help="skip newsboat even if installed")
    ap.add_argument("--warm-runs", type=int, default=3,
                    help="repeat the warm phase and report the median run (default 3)")
    ap.add_argument("--cold-runs", type=int, default=3,
                    help="repeat the cold phase, each from empty, and report the median (default 3)")
    a = ap.parse_args(argv)
    if not a.feedfarm.exists():
        ap.error(f"feedfarm not found at {a.feedfarm} (use --feedfarm)")
    newsboat = shutil.which("newsboat") and not a.no_newsboat
    # Byte-compile pln once: with PYTHONDONTWRITEBYTECODE set, every timed run would otherwise
    # compile each module changed since the last compile (tens of ms per run).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "companion")],
                   check=True, stdout=subprocess.DEVNULL)
    phases = ["cold", "warm", "bump"]
    rows = []
    for latency in a.latency or [0.0, 100.0]:
        print(f"latency {latency:g} ms: {a.feeds} feeds x {a.items} items", file=sys.stderr)
        farm = Farm(a.feedfarm, a.feeds, a.items, latency)
        try:
            pln = run_pln(farm, phases, a.workers, max(1, a.warm_runs), max(1, a.cold_runs))
        finally:
            farm.stop()
        nb: dict[str, Run] = {}
        if newsboat:  # a fresh farm, so newsboat sees the same generations as pln
            farm = Farm(a.feedfarm, a.feeds, a.items, latency)
            try:
                nb = run_newsboat(farm, phases, a.threads, max(1, a.warm_runs), max(1, a.cold_runs))
            finally:
                farm.stop()
        for phase in phases:
            rows.append((latency, phase, pln[phase], nb.get(phase)))

    print()
    print(f"{'latency':>7} {'phase':5} | {'pln wall':>8} {'cpu':>7} {'rss':>8} | "
          f"{'newsboat wall':>13} {'cpu':>7} {'rss':>8} | {'pln/nb wall':>11}")
    for latency, phase, p, n in rows:
        nb_cell = n.cell() if n else f"{'-':>14} {'-':>7} {'-':>8}"
        ratio = f"{p.wall / n.wall:10.2f}x" if n and n.wall else f"{'-':>11}"
        print(f"{latency:5g}ms {phase:5} | {p.cell()} | {nb_cell:>31} | {ratio}")
    if not newsboat:
        print("(newsboat not on PATH: apt-get install newsboat to compare)")
    if a.warm_runs > 1 or a.cold_runs > 1:
        print(f"(cold: the median of {a.cold_runs} runs, each from empty; warm: the median of "
              f"{a.warm_runs} runs)")
    failed = [r for _, _, r, _ in rows if r.code not in (0,)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
