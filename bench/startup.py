"""Start-up time of `pln --help` against `toot --help` (issue 2: pln ≤ 0.5× toot).

    python bench/startup.py                    # finds `toot` on PATH
    python bench/startup.py --toot /tmp/tootvenv/bin/toot

Install toot apart from pln to compare: python -m venv /tmp/tootvenv &&
/tmp/tootvenv/bin/pip install toot. Each command runs 15 times; prints min and median.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import PLN, compile_bytecode, run


def timed(cmd: list[str], runs: int = 15) -> tuple[float, float]:
    walls = [run(cmd, check=True).wall for _ in range(runs)]
    return min(walls), statistics.median(walls)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--toot", default=shutil.which("toot"))
    args = ap.parse_args()
    compile_bytecode()
    pln = PLN
    rows = [("python -c pass", [sys.executable, "-c", "pass"]),
            ("pln --help", [*pln, "--help"])]
    if args.toot:
        rows.append(("toot --help", [args.toot, "--help"]))
    with tempfile.TemporaryDirectory():
        results = {label: timed(cmd) for label, cmd in rows}
    print(f"{'command':20} {'min':>8} {'median':>8}")
    for label, (lo, med) in results.items():
        print(f"{label:20} {lo:>7.3f}s {med:>7.3f}s")
    if "toot --help" in results:
        ratio = results["pln --help"][1] / results["toot --help"][1]
        print(f"pln/toot (median): {ratio:.2f}")
    else:
        print("toot not found: see the docstring to install it apart")


if __name__ == "__main__":
    main()
