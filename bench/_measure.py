"""What every benchmark does to a command: run it in a fresh process and measure it.

    from _measure import PLN, compile_bytecode, measure, median, run

``run`` starts one child and waits for it with ``os.wait4``, so wall time, CPU (user + sys)
and peak RSS are that child's alone (and its reaped workers'), not the largest of every child
so far; its output goes to temporary files (a pipe could fill and stall it). ``median`` runs a
command ``repeat`` times and gives the median wall time and the highest peak RSS. The
store-backed benchmarks share ``store_args`` and ``bench_home``: the 100,000-item store of
bench/store.py, built once into a temporary directory or reused with ``--home``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
# pln as its console script runs it (``python -m companion`` would add runpy's imports)
PLN = [sys.executable, "-c", "from companion.cli.app import main; main()"]


@dataclass
class Run:
    """One finished child: wall and CPU seconds, peak RSS in MB, exit code, output."""

    wall: float
    cpu: float
    rss_mb: float
    code: int
    stdout: str
    stderr: str

    def cell(self) -> str:
        return f"{self.wall:6.2f}s {self.cpu:6.2f}s {self.rss_mb:6.0f}MB"


def run(cmd: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None,
        check: bool = False, keep_stdout: bool = True) -> Run:
    """Run ``cmd`` to completion in a fresh process and measure it (``check``: exit with its
    error output if it fails; ``keep_stdout=False``: its output is thrown away). A big output
    kept here would make this process big, and the next child, forked from it, would count
    that in its own peak RSS until it execs."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), env=env, cwd=cwd,
                                stdout=out if keep_stdout else subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL, text=True)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = Run(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, proc.returncode,
                     out.read(), err.read())
    if check and result.code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({result.code}): {result.stderr[-400:]}")
    return result


def median(cmd: Sequence[str], env: dict[str, str] | None = None,
           repeat: int = 5) -> tuple[float, float]:
    """Median wall time and peak RSS (MB) of ``repeat`` runs; a failed run ends the bench."""
    runs = [run(cmd, env, check=True, keep_stdout=False) for _ in range(repeat)]
    return statistics.median(r.wall for r in runs), max(r.rss_mb for r in runs)


def measure(args: Sequence[str], env: dict[str, str], repeat: int = 5) -> tuple[float, float]:
    """``median`` of ``pln ARGS``."""
    return median([*PLN, *args], env, repeat)


def table(rows: Sequence[tuple[str, Sequence[str]]], env: dict[str, str], width: int = 44,
          repeat: int = 5) -> None:
    """Print ``measure`` of each (label, pln ARGS) row under a header."""
    print(f"{'command':{width}} {f'wall (median of {repeat})':>20} {'peak RSS':>10}")
    for label, args in rows:
        wall, peak = measure(args, env, repeat)
        print(f"{label:{width}} {wall:>18.3f} s {peak:>7.0f} MB", flush=True)


def compile_bytecode() -> None:
    """Byte-compile pln as `pip install` does, so a source checkout (or an environment with
    PYTHONDONTWRITEBYTECODE) is not measured recompiling every module on every run."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "companion")], check=True)


def store_args(ap: argparse.ArgumentParser) -> None:
    """``--items`` and ``--home``: the store a benchmark runs on."""
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--home", type=Path, help="a store built by `bench/store.py --keep DIR`")


def bench_home(args: argparse.Namespace, prefix: str) -> tuple[Path, Path]:
    """(a temporary directory, the pln home to run on): ``args.home``, or a store of
    ``args.items`` items built there by bench/store.py."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    home = args.home
    if home is None:
        home = tmp / "home"
        subprocess.run([sys.executable, str(BENCH / "store.py"), "--items", str(args.items),
                        "--keep", str(home)], check=True, stdout=subprocess.DEVNULL)
    return tmp, home


def pln_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a pln run on ``home``: no colour, a fixed width."""
    return {**os.environ, "PLN_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "120", **extra}
