#!/usr/bin/env python3
"""Benchmark `pln sync` of feeds against its peers on the feedfarm workloads (issues 3, 14).

    python bench/sync_feeds.py                       # every case below, 5 rounds each
    python bench/sync_feeds.py --case internet --rounds 7
    python bench/sync_feeds.py --markdown            # also print the README's tables

Cases (../shared/bench/feedfarm.py on loopback; items per feed 50):

    small     20 feeds, 0 ms                cold, warm        vs newsboat
    lan       200 feeds, 0 ms               cold, warm, bump  vs newsboat
    internet  200 feeds on 50 hosts, 100 ms cold, warm, bump  vs newsboat; warm also vs reader
    onehost   200 feeds on 1 host, 100 ms   warm              vs newsboat (per-host limit)
    big       800 feeds, 0 ms               cold, bump        (peak memory; vs newsboat)

Each phase runs in rounds; in each round pln and every peer run once, one after the other
(the order alternates from round to round), so a slower or busier moment of this shared
machine hits both. Reported: the median wall time of each, and the median of the per-round
ratios pln/peer. cold: each run from an empty home; warm: every feed answers 304; bump: GET
/bump first (one new item per feed). pln runs with its defaults (workers 64, per_host 4), the
peers with 8 threads as before (newsboat `reload-threads 8`, reader `update --workers 8`).
newsboat keeps a feed's validators only once the feed is in its cache, so an untimed "prime"
reload follows its cold run (else its first warm run downloads every feed again).

The farm runs through bench/farm_counting.py, which counts on the server's side the
requests and connections each host has open at once: the "per host" column is the most any
one host saw during pln's runs of that phase. The load average (`uptime`) is printed before
and after: figures are worth quoting only from a quiet machine.

Fairness: pln's modules are byte-compiled first (`compileall`); pln and reader run as Python
processes, newsboat as its binary. CPU is user+sys of the child and its children (os.wait4),
RSS the peak of the process itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COUNTING = Path(__file__).resolve().parent / "farm_counting.py"


def _default_farm() -> Path:
    """../shared/bench/feedfarm.py beside this checkout, else under $PLN_SHARED."""
    bases = [os.environ.get("PLN_SHARED"), REPO.parent / "shared", REPO.parents[1] / "shared"]
    for base in bases:
        if base and (Path(base) / "bench/feedfarm.py").exists():
            return Path(base) / "bench/feedfarm.py"
    return REPO.parent / "shared/bench/feedfarm.py"


DEFAULT_FARM = _default_farm()
sys.path.insert(0, str(REPO / "bench"))

from _measure import PLN, Run, run


def measure(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> Run:
    """Run a child to completion (``_measure.run``): wall clock, user+sys CPU (with its
    children: parse workers) and peak RSS of the child process."""
    return run(cmd, env, cwd)


class Farm:
    """feedfarm.py (through farm_counting.py) as a subprocess on a free loopback port."""

    def __init__(self, script: Path, feeds: int, items: int, latency_ms: float,
                 hosts: int = 1) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="feedfarm-"))
        port_file = self.tmp / "port"
        self.proc = subprocess.Popen(
            [sys.executable, str(COUNTING), str(script), "--feeds", str(feeds), "--items",
             str(items), "--latency-ms", str(latency_ms), "--hosts", str(hosts), "--port", "0",
             "--port-file", str(port_file)],
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
        with urllib.request.urlopen(self.base + path, timeout=60) as r:
            return r.read()

    def stats(self) -> dict[str, int]:
        return json.loads(self.get("/stats?reset=1"))

    def concurrency(self) -> dict[str, object]:
        return json.loads(self.get("/concurrency?reset=1"))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def pln_cmd(*args: str) -> list[str]:
    return [*PLN, *args]


class Client:
    """One program under test: a home to sync into, made fresh or kept between runs."""

    name = ""

    def __init__(self, farm: Farm, root: Path, threads: int) -> None:
        self.farm, self.root, self.threads = farm, root, threads
        self.home: Path | None = None
        self.n = 0

    def fresh(self) -> None:
        self.n += 1
        if self.home is not None:
            shutil.rmtree(self.home, ignore_errors=True)
        self.home = Path(tempfile.mkdtemp(prefix=f"{self.name}-{self.n}-", dir=self.root))
        self.setup()

    def setup(self) -> None:  # untimed
        raise NotImplementedError

    def run(self) -> Run:
        raise NotImplementedError

    def after_cold(self) -> None:  # untimed
        pass


class Pln(Client):
    name = "pln"

    def env(self) -> dict[str, str]:
        assert self.home is not None
        return {**os.environ, "PLN_HOME": str(self.home), "NO_COLOR": "1",
                "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def setup(self) -> None:
        assert self.home is not None
        opml = self.home / "feeds.opml"
        opml.write_bytes(self.farm.get("/feeds.opml"))
        if self.threads:
            (self.home / "config.toml").write_text(f"[settings]\nworkers = {self.threads}\n")
        subprocess.run(pln_cmd("source", "import", str(opml)), env=self.env(), check=True,
                       stdout=subprocess.DEVNULL)

    def run(self) -> Run:
        return measure(pln_cmd("sync"), self.env())


class Newsboat(Client):
    name = "newsboat"

    def setup(self) -> None:
        assert self.home is not None
        (self.home / "urls").write_bytes(self.farm.get("/urls.txt"))
        (self.home / "config").write_text(f"reload-threads {self.threads}\n")

    def run(self) -> Run:
        assert self.home is not None
        h = self.home
        env = {**os.environ, "HOME": str(h), "XDG_CONFIG_HOME": str(h / ".config"),
               "XDG_DATA_HOME": str(h / ".local/share")}
        return measure(["newsboat", "-x", "reload", "-u", str(h / "urls"), "-c",
                        str(h / "cache.db"), "-C", str(h / "config")], env)

    def after_cold(self) -> None:
        self.run()  # prime: newsboat stores validators only for feeds already cached


class Reader(Client):
    name = "reader"

    def env(self) -> dict[str, str]:
        assert self.home is not None
        return {**os.environ, "HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home)}

    def setup(self) -> None:
        assert self.home is not None
        urls = self.farm.get("/urls.txt").decode().split()
        code = ("import sys\nfrom reader import make_reader\nr = make_reader(sys.argv[1])\n"
                "for u in sys.argv[2:]:\n    r.add_feed(u)\nr.close()\n")
        subprocess.run([sys.executable, "-c", code, str(self.home / "db.sqlite"), *urls],
                       env=self.env(), check=True)

    def run(self) -> Run:
        assert self.home is not None
        return measure([sys.executable, "-m", "reader", "--db", str(self.home / "db.sqlite"),
                        "update", "--workers", str(self.threads), "--no-scheduled"], self.env())


PEERS = {"newsboat": Newsboat, "reader": Reader}


@dataclass
class Case:
    key: str
    title: str
    feeds: int
    latency: float
    hosts: int
    phases: list[tuple[str, tuple[str, ...]]]  # (phase, peers timed in it)


CASES = [
    Case("small", "20 feeds, 0 ms", 20, 0, 1, [("cold", ("newsboat",)), ("warm", ("newsboat",))]),
    Case("lan", "200 feeds, 0 ms", 200, 0, 1,
         [("cold", ("newsboat",)), ("warm", ("newsboat",)), ("bump", ("newsboat",))]),
    Case("internet", "200 feeds on 50 hosts, 100 ms", 200, 100, 50,
         [("cold", ("newsboat",)), ("warm", ("newsboat", "reader")), ("bump", ("newsboat",))]),
    Case("onehost", "200 feeds on 1 host, 100 ms", 200, 100, 1, [("warm", ("newsboat",))]),
    Case("big", "800 feeds, 0 ms", 800, 0, 1, [("cold", ("newsboat",)), ("bump", ("newsboat",))]),
]


@dataclass
class Row:
    case: Case
    phase: str
    pln: list[Run] = field(default_factory=list)
    peers: dict[str, list[Run]] = field(default_factory=dict)
    ratios: dict[str, list[float]] = field(default_factory=dict)
    per_host: int = 0  # most requests one host had in flight during pln's runs
    per_host_conns: int = 0
    total: int = 0  # most requests in flight at once during pln's runs


def median_run(runs: list[Run]) -> Run:
    ordered = sorted(runs, key=lambda r: r.wall)
    return ordered[(len(ordered) - 1) // 2]


def run_case(case: Case, a: argparse.Namespace, root: Path) -> list[Row]:
    farm = Farm(a.feedfarm, case.feeds, a.items, case.latency, case.hosts)
    rows: list[Row] = []
    try:
        names = sorted({p for _, peers in case.phases for p in peers if p in a.peers})
        clients: dict[str, Client] = {"pln": Pln(farm, root, a.workers or 0)}
        for name in names:
            clients[name] = PEERS[name](farm, root, a.threads)
        synced: set[str] = set()
        for phase, peers in case.phases:
            row = Row(case, phase)
            timed = ["pln", *(p for p in peers if p in clients)]
            for r in range(a.rounds):
                if phase == "bump":
                    farm.get("/bump")
                runs: dict[str, Run] = {}
                for name in (timed if r % 2 == 0 else timed[::-1]):
                    c = clients[name]
                    if phase == "cold":
                        c.fresh()
                    elif name not in synced:  # untimed: a home that has everything
                        c.fresh()
                        c.run()
                        c.after_cold()
                        synced.add(name)
                        if phase == "bump":
                            continue  # (its sync just now brought the bump)
                    farm.stats()
                    farm.concurrency()
                    run = c.run()
                    st = farm.stats()
                    if name == "pln":
                        conc = farm.concurrency()
                        row.per_host = max(row.per_host, *conc["requests"].values(), 0)  # type: ignore[union-attr]
                        row.per_host_conns = max(row.per_host_conns,
                                                 *conc["connections"].values(), 0)  # type: ignore[union-attr]
                        row.total = max(row.total, int(conc["total"]))  # type: ignore[arg-type]
                    if run.code != 0:
                        raise SystemExit(f"{name} failed ({run.code}): {(run.stdout + run.stderr)[-600:]}")
                    if phase == "cold":
                        c.after_cold()
                        synced.add(name)
                    runs[name] = run
                    print(f"  {case.key} {phase:4} round {r + 1}: {name:8} {run.wall:6.2f}s "
                          f"{run.cpu:6.2f}s cpu {run.rss_mb:5.0f}MB  [server: "
                          f"{st.get('200', 0)}x200 {st.get('304', 0)}x304]", file=sys.stderr)
                if "pln" not in runs:
                    continue
                row.pln.append(runs["pln"])
                for name, run in runs.items():
                    if name != "pln":
                        row.peers.setdefault(name, []).append(run)
                        row.ratios.setdefault(name, []).append(runs["pln"].wall / run.wall)
            rows.append(row)
    finally:
        farm.stop()
    return rows


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True,
                              check=False).stdout.strip()
    except OSError:
        return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def print_rows(rows: list[Row], markdown: bool) -> None:
    peers = sorted({p for r in rows for p in r.peers})
    if markdown:
        head = ["case", "phase", "pln wall", "pln CPU", "pln RSS", "per host"]
        for p in peers:
            head += [f"{p} wall", f"pln/{p}"]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
    else:
        print(f"{'case':32} {'phase':5} {'pln wall':>9} {'cpu':>7} {'rss':>7} {'host':>5}"
              + "".join(f" {p + ' wall':>14} {'pln/' + p:>14}" for p in peers))
    for row in rows:
        m = median_run(row.pln)
        cells = [row.case.title, row.phase, f"{statistics.median(r.wall for r in row.pln):.2f} s",
                 f"{m.cpu:.2f} s", f"{max(r.rss_mb for r in row.pln):.0f} MB",
                 f"{row.per_host}"]
        for p in peers:
            if p in row.peers:
                cells += [f"{statistics.median(r.wall for r in row.peers[p]):.2f} s",
                          f"{statistics.median(row.ratios[p]):.2f}×"]
            else:
                cells += ["–", "–"]
        if markdown:
            print("| " + " | ".join(cells) + " |")
        else:
            print(f"{cells[0]:32} {cells[1]:5} {cells[2]:>9} {cells[3]:>7} {cells[4]:>7} "
                  f"{cells[5]:>5}" + "".join(f" {c:>14}" for c in cells[6:]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feedfarm", type=Path, default=DEFAULT_FARM, help="path to feedfarm.py")
    ap.add_argument("--case", action="append", choices=[c.key for c in CASES],
                    help="run this case (repeatable; default: all)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds per phase (default 5)")
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--workers", type=int, default=None,
                    help="pln [settings] workers (default: pln's own default)")
    ap.add_argument("--threads", type=int, default=8, help="the peers' threads (default 8)")
    ap.add_argument("--peer", dest="peers", action="append", choices=sorted(PEERS),
                    help="peers to run (default: those installed)")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown too")
    a = ap.parse_args(argv)
    if not a.feedfarm.exists():
        ap.error(f"feedfarm not found at {a.feedfarm} (use --feedfarm)")
    if a.peers is None:
        a.peers = [p for p in PEERS if (shutil.which("newsboat") if p == "newsboat" else
                                        _importable("reader"))]
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "companion")],
                   check=True, stdout=subprocess.DEVNULL)
    print(f"before: {uptime()}")
    rows: list[Row] = []
    root = Path(tempfile.mkdtemp(prefix="pln-bench-sync-"))
    try:
        for case in CASES:
            if a.case and case.key not in a.case:
                continue
            print(f"{case.key}: {case.title}, {a.items} items per feed", file=sys.stderr)
            rows += run_case(case, a, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"after:  {uptime()}")
    print(f"(medians of {a.rounds} rounds; ratios: the median of the per-round ratios; "
          "per host: the most requests one host had in flight during pln's runs)")
    print_rows(rows, markdown=False)
    if a.markdown:
        print()
        print_rows(rows, markdown=True)
    missing = sorted(set(PEERS) - set(a.peers))
    if missing:
        print(f"(not run: {', '.join(missing)} — apt-get install newsboat; pip install reader)")
    return 0


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    sys.exit(main())
