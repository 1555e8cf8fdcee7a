"""Mutation testing of pln's pure core: how much of each module's behaviour the tests pin down.

    python bench/mutation.py                  # every module of the pure core: a score table
    python bench/mutation.py urls thread      # some of them
    python bench/mutation.py urls --list      # the mutants only, nothing run
    python bench/mutation.py -j 2             # two mutants at a time (the machine has 2 cores)

Each mutant is one small change to one module (a comparison turned around, a constant changed,
a string method swapped for a near relative, a condition negated, a call dropped, a return
value lost …). The module's tests run against it in a forked process; a mutant is *killed*
when a test fails (or the run times out or cannot import it) and *survives* when every test
passes. The score is killed / (mutants - judged equivalent). Equivalent mutants (changes no
input can observe) are listed with the reason in ``bench/mutation_equivalent.toml``; every
other survivor is printed with its line: a rule no test states.

Why not mutmut or cosmic-ray: mutmut 3 does not mutate decorated functions or module-level
constants, and the core's rules live there (``canonical_url`` is ``lru_cache``d, the tracking
parameters and limits are constants, ``SourceSpec.canonical`` is a property); cosmic-ray
mutates neither string constants nor string methods (``casefold`` -> ``lower``). Both are
configured for a whole tree; this script is small and only knows the pure core.

Mutants are made from the source when the script runs, so the table follows the code as it
is. Each mutant first runs the tests that ran its line in a traced run of the unchanged
module, then, if those pass, all the module's tests listed below (``-x``). The thirteen
modules take about half an hour with ``-j 2`` on a 2-core machine: not part of CI
(``python -m pytest`` does not run it). Exit status 1 while any mutant survives unjudged.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib.abc
import importlib.util
import os
import pickle
import signal
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EQUIVALENT_FILE = Path(__file__).resolve().parent / "mutation_equivalent.toml"


@dataclass(frozen=True)
class Target:
    """A module of the pure core and the tests that state its rules."""

    path: str
    tests: tuple[str, ...]
    only: frozenset[str] | None = None  # top-level names to mutate (None: the whole module)


# The tests that state each module's rules, fastest first (``-x`` stops at the first failure).
# Only in-process tests: a test that runs ``pln`` in a subprocess would import the unmutated
# module from disk.
MODULES: dict[str, Target] = {
    "urls": Target("companion/urls.py", (
        "tests/test_urls_rules.py", "tests/test_properties.py", "tests/test_sync_pure.py")),
    "specs": Target("companion/specs.py", (
        "tests/test_specs_rules.py", "tests/test_specs.py", "tests/test_specs_mail_bluesky.py",
        "tests/test_specs_mail_rules.py",
        "tests/test_properties.py")),
    "search": Target("companion/search.py", ("tests/test_search_rules.py",)),
    # The text functions; sanitizing (nh3's policy) is pinned by the feed/render tests.
    "html": Target("companion/html.py", (
        "tests/test_html_rules.py", "tests/test_feed_text.py", "tests/test_sync_pure.py"),
        only=frozenset({
            "_BLANKS", "_text_config", "to_text", "_LinkCollector", "links", "_SIMPLE", "_NAMES",
            "_KNOWN", "_P", "_BR", "_ANY", "_BLOCK", "_LINE", "fast_text", "html_to_text",
            "_BREAK_TAGS", "_BREAKS", "_BREAKS_ANY_CASE", "_UPPER_TAG", "plain_words", "_HIDDEN",
            "_TAG", "summary"})),
    "models": Target("companion/models.py", (
        "tests/test_models_rules.py", "tests/test_sync_pure.py")),
    "ids": Target("companion/ids.py", ("tests/test_ids_rules.py", "tests/test_sync_pure.py")),
    "decide": Target("companion/decide.py", (
        "tests/test_decide_rules.py", "tests/test_sync_pure.py")),
    "thread": Target("companion/reflections/thread.py", (
        "tests/test_thread_rules.py", "tests/test_thread_split.py", "tests/test_properties.py")),
    "status_length": Target("companion/reflections/status_length.py", (
        "tests/test_status_length_rules.py", "tests/test_thread_rules.py")),
    "mine": Target("companion/mine.py", ("tests/test_own_posts.py", "tests/test_replies.py")),
    "parents": Target("companion/parents.py", ("tests/test_replies.py",)),
    "paging": Target("companion/sources/paging.py", ("tests/test_paging.py",)),
    "discover": Target("companion/network/discover.py", ("tests/test_network_pure.py",)),
}

# Third-party modules the tests import, loaded once in this process so that each forked
# mutant run does not pay for them. Nothing of ``companion`` or ``tests``: those are imported
# fresh in every fork, the mutated module among them.
_PRELOAD = ("pytest", "hypothesis", "hypothesis.strategies", "typer", "typer.testing", "rich",
            "click", "tinydb", "orjson", "lxml.etree", "feedparser", "nh3", "inscriptis",
            "requests", "urllib3", "tomlkit", "platformdirs", "filelock", "mastodon", "yaml")

# ----- mutants -----------------------------------------------------------------------------

_CMP_SWAP: dict[type, type] = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE,
    ast.GtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
_BIN_SWAP: dict[type, type] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.LShift: ast.RShift,
    ast.RShift: ast.LShift, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
}
# A method swapped for its nearest relative: what a slip of the hand or a misread spec makes.
_METHOD_SWAP = {
    "casefold": "lower", "lower": "upper", "upper": "lower", "strip": "rstrip",
    "rstrip": "lstrip", "lstrip": "rstrip", "startswith": "endswith", "endswith": "startswith",
    "removeprefix": "removesuffix", "removesuffix": "removeprefix", "split": "rsplit",
    "rsplit": "split", "partition": "rpartition", "rpartition": "partition", "match": "search",
    "fullmatch": "match", "search": "match", "isascii": "isalnum", "find": "rfind",
    "is_loopback": "is_private",
}
# Calls whose result is their receiver, more or less: dropping them is a plausible bug.
_DROPPABLE = {"strip", "rstrip", "lstrip", "lower", "casefold", "removeprefix", "removesuffix"}
_FUNC_SWAP = {"min": "max", "max": "min", "any": "all", "all": "any"}


@dataclass
class Mutant:
    """One change to one node of a module."""

    index: int  # the node's position in ast.walk order
    op: str
    line: int
    where: str  # the enclosing top-level name (function, class or constant)
    before: str
    after: str
    new: Any = field(repr=False)  # the replacement node
    ordinal: int = 1  # among mutants with the same key

    @property
    def key(self) -> str:
        """How bench/mutation_equivalent.toml names it (stable when lines move)."""
        return f"{self.where}: {self.before} -> {self.after}" + (
            f" #{self.ordinal}" if self.ordinal > 1 else "")


def _src(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - a label only: any node we make unparses
        text = type(node).__name__
    text = " ".join(text.split())
    return text if len(text) <= 90 else text[:87] + "..."


def _variants(node: ast.AST, called: bool = False) -> Iterator[tuple[str, ast.AST]]:
    """The mutated copies of one node (``called``: an attribute that is called, which the
    call's own mutants change already)."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in _CMP_SWAP:
                new = copy.deepcopy(node)
                new.ops[i] = _CMP_SWAP[type(op)]()
                yield "compare", new
    elif isinstance(node, ast.BoolOp):
        new = copy.deepcopy(node)
        new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield "boolean", new
        if len(node.values) == 2:  # one side of the condition forgotten
            for side in node.values:
                yield "boolean side", copy.deepcopy(side)
    elif isinstance(node, ast.UnaryOp):
        if isinstance(node.op, (ast.Not, ast.USub, ast.Invert)):
            yield "unary", copy.deepcopy(node.operand)
    elif isinstance(node, (ast.BinOp, ast.AugAssign)):
        if type(node.op) in _BIN_SWAP:
            new = copy.deepcopy(node)
            new.op = _BIN_SWAP[type(node.op)]()
            yield "arithmetic", new
    elif isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            yield "constant", ast.Constant(not v)
        elif isinstance(v, int | float):
            yield "number", ast.Constant(v + 1)
            if v not in (0, 1):
                yield "number", ast.Constant(v - 1)
        elif isinstance(v, str):
            yield "string", ast.Constant(f"XX{v}XX" if v else "XX")
    elif isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in _METHOD_SWAP:
            new = copy.deepcopy(node)
            new.func.attr = _METHOD_SWAP[f.attr]  # type: ignore[attr-defined]
            yield "method", new
        if isinstance(f, ast.Attribute) and f.attr in _DROPPABLE:
            yield "drop call", copy.deepcopy(f.value)
        if isinstance(f, ast.Name) and f.id in _FUNC_SWAP:
            new = copy.deepcopy(node)
            new.func.id = _FUNC_SWAP[f.id]  # type: ignore[attr-defined]
            yield "function", new
    elif isinstance(node, ast.Attribute) and node.attr in _METHOD_SWAP and not called:
        new = copy.deepcopy(node)
        new.attr = _METHOD_SWAP[node.attr]
        yield "attribute", new
    elif isinstance(node, ast.Return) and node.value is not None:
        if not (isinstance(node.value, ast.Constant) and node.value.value is None):
            yield "return", ast.Return(ast.Constant(None))
    elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
        if not isinstance(node.test, (ast.Compare, ast.BoolOp, ast.UnaryOp)):
            new = copy.deepcopy(node)
            new.test = ast.UnaryOp(ast.Not(), new.test)
            yield "condition", new
    elif isinstance(node, ast.Break):
        yield "loop", ast.Continue()
    elif isinstance(node, ast.Continue):
        yield "loop", ast.Break()
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        yield "drop statement", ast.Pass()


def _skipped_children(node: ast.AST) -> set[int]:
    """ids of subtrees never mutated: docstrings, annotations, decorators, imports, error
    messages (their wording is pinned by the CLI tests), f-string text, ``global``."""
    skip: list[ast.AST] = []
    body = getattr(node, "body", None)
    if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        skip.append(body[0])
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        skip += node.decorator_list
        if node.returns:
            skip.append(node.returns)
        skip += [a.annotation for a in ast.walk(node.args)
                 if isinstance(a, ast.arg) and a.annotation]
    if isinstance(node, ast.ClassDef):
        skip += node.decorator_list
    if isinstance(node, ast.AnnAssign):
        skip.append(node.annotation)
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.Raise, ast.JoinedStr)):
        skip.append(node)
    return {id(n) for n in skip}


def _top_name(stmt: ast.stmt) -> str:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return stmt.name
    if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Tuple):
        return ", ".join(_src(e) for e in stmt.targets[0].elts)
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id
    return f"line {stmt.lineno}"


def mutants(target: Target) -> tuple[ast.Module, list[Mutant]]:
    """The module's tree and every mutant of it."""
    tree = ast.parse((REPO / target.path).read_text(encoding="utf-8"))
    index = {id(n): i for i, n in enumerate(ast.walk(tree))}
    out: list[Mutant] = []
    for stmt in tree.body:
        where = _top_name(stmt)
        if target.only is not None and where not in target.only:
            continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Expr)):
            continue  # imports, the module docstring
        skip: set[int] = set()
        called: set[int] = set()
        stack: list[ast.AST] = [stmt]
        while stack:
            node = stack.pop()
            if id(node) in skip:
                continue
            skip |= _skipped_children(node)
            if id(node) in skip:
                continue
            if isinstance(node, ast.Call):
                called.add(id(node.func))
            for op, new in _variants(node, id(node) in called):
                ast.copy_location(new, node)
                out.append(Mutant(index[id(node)], op, getattr(node, "lineno", stmt.lineno),
                                  where, _src(node), _src(new), new))
            stack.extend(reversed(list(ast.iter_child_nodes(node))))
    out.sort(key=lambda m: (m.line, m.index))
    seen: dict[str, int] = {}
    for m in out:
        base = m.key
        seen[base] = seen.get(base, 0) + 1
        m.ordinal = seen[base]
    return tree, out


def apply(tree: ast.Module, mutant: Mutant) -> ast.Module:
    """A copy of ``tree`` with the mutant's node replaced."""
    new_tree = copy.deepcopy(tree)
    target = list(ast.walk(new_tree))[mutant.index]
    for parent in ast.walk(new_tree):
        for name, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, name, copy.deepcopy(mutant.new))
                return ast.fix_missing_locations(new_tree)
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is target:
                        value[i] = copy.deepcopy(mutant.new)
                        return ast.fix_missing_locations(new_tree)
    raise AssertionError(f"node {mutant.index} not found")  # pragma: no cover


# ----- running -----------------------------------------------------------------------------


class _MutatedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports one module from a code object instead of its file."""

    def __init__(self, name: str, path: Path, code: Any) -> None:
        self.name, self.path, self.code = name, path, code

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(fullname, self.path, loader=self)

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        exec(self.code, module.__dict__)  # noqa: S102 - the mutated module, compiled here


def _module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


class _Select:
    """A pytest plugin that runs only the tests in ``wanted`` (node ids can hold "::" inside
    their parameters, so they are not given on the command line)."""

    def __init__(self, wanted: frozenset[str]) -> None:
        self.wanted = wanted

    def pytest_collection_modifyitems(self, config: Any, items: list[Any]) -> None:
        items[:] = [i for i in items if i.nodeid in self.wanted]


class _Trace:
    """A pytest plugin that records which test runs each line of one file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.test = ""
        self.lines: dict[int, set[str]] = {}

    def _local(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            self.lines.setdefault(frame.f_lineno, set()).add(self.test)
        return self._local

    def _global(self, frame: Any, event: str, arg: Any) -> Any:
        return self._local if frame.f_code.co_filename == self.path else None

    def pytest_runtest_setup(self, item: Any) -> None:
        self.test = item.nodeid
        sys.settrace(self._global)
        threading.settrace(self._global)

    def pytest_runtest_teardown(self, item: Any) -> None:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]


def _start(target: Target, code: Any | None, wanted: frozenset[str] | None = None,
           trace_to: str | None = None) -> int:
    """Fork a process that runs the target's tests (``wanted`` of them if given) against
    ``code`` if given; with ``trace_to``, it records there which test runs which line."""
    pid = os.fork()
    if pid:
        return pid
    try:  # the child: never returns
        os.setsid()  # one process group: a timeout kills whatever the tests started
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.chdir(REPO)
        if code is not None:
            sys.meta_path.insert(0, _MutatedFinder(_module_name(target.path),
                                                   REPO / target.path, code))
        import pytest

        plugins: list[Any] = []
        if wanted is not None:
            plugins.append(_Select(wanted))
        trace = _Trace(str(REPO / target.path)) if trace_to else None
        if trace is not None:
            plugins.append(trace)
        # Only the files that hold wanted tests are collected; of the plugins installed, only
        # hypothesis's is loaded (finding and loading the others costs a second a run).
        files = [t for t in target.tests
                 if wanted is None or any(w.split("::")[0] == t for w in wanted)]
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        args = [*files, "-q", "-p", "no:cacheprovider", "-p", "_hypothesis_pytestplugin",
                "-o", "addopts="]
        rc = pytest.main([*args, "-x"] if trace is None else args, plugins=plugins)
        if trace is not None and trace_to:
            with open(trace_to, "wb") as f:
                pickle.dump(trace.lines, f)
        os._exit(int(rc))
    except BaseException:  # noqa: BLE001 - a forked child must never return into the runner
        os._exit(3)


def _wait(pids: dict[int, float], timeout: float) -> tuple[int, str]:
    """Wait for one of ``pids`` (pid -> start time): (pid, outcome)."""
    while True:
        for pid, t0 in list(pids.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                rc = os.waitstatus_to_exitcode(status)
                outcome = {0: "survived", 1: "killed", 2: "error"}.get(rc, f"rc={rc}")
                return pid, outcome
            if time.monotonic() - t0 > timeout:
                _kill(pid)
                return pid, "timeout"
        time.sleep(0.005)


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _equivalents() -> dict[tuple[str, str], str]:
    if not EQUIVALENT_FILE.exists():
        return {}
    data = tomllib.loads(EQUIVALENT_FILE.read_text(encoding="utf-8"))
    return {(e["module"], e["mutant"]): e["why"] for e in data.get("equivalent", [])}


@dataclass
class Result:
    name: str
    total: int = 0
    killed: int = 0
    timeout: int = 0
    equivalent: int = 0
    survivors: list[Mutant] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        judged = self.total - self.equivalent
        return 100.0 * (self.killed + self.timeout) / judged if judged else 100.0


def _covering(tree: ast.Module, lines: dict[int, set[str]]) -> dict[int, frozenset[str]]:
    """For each node (by walk index) inside a function body: the tests that ran its
    statement. Nodes elsewhere (constants, defaults, class bodies) run at import: absent."""
    out: dict[int, frozenset[str]] = {}
    index = {id(n): i for i, n in enumerate(ast.walk(tree))}

    def visit(node: ast.AST, stmt: ast.stmt | None, in_body: bool) -> None:
        if in_body and stmt is not None:
            out[index[id(node)]] = frozenset(lines.get(stmt.lineno, ()))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for child in ast.iter_child_nodes(node):
                inner = child in node.body if isinstance(node.body, list) else child is node.body
                visit(child, child if isinstance(child, ast.stmt) else stmt, in_body or inner)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, child if isinstance(child, ast.stmt) else stmt, in_body)

    visit(tree, None, False)
    return out


def run_module(name: str, jobs: int, verbose: bool) -> Result:
    """Run every mutant of one module; the tests must pass on the module as it is.

    Each mutant runs first against the tests that ran the mutated statement (recorded in a
    traced run of the module as it is), which kill most mutants in a second; a mutant they
    do not kill runs against every test of the module before it counts as a survivor (a
    cached result, or a test that only asserts on the output of another function, can
    still kill it).
    """
    target = MODULES[name]
    tree, muts = mutants(target)
    equivalent = _equivalents()
    res = Result(name, total=len(muts))
    t0 = time.monotonic()
    with tempfile.NamedTemporaryFile(suffix=".pickle") as f:
        pid = _start(target, None, trace_to=f.name)
        _, outcome = _wait({pid: t0}, 1800)
        if outcome != "survived":
            sys.exit(f"{name}: the tests fail on the module as it is ({outcome}): "
                     f"python -m pytest {' '.join(target.tests)}")
        lines: dict[int, set[str]] = pickle.load(f)
    covering = _covering(tree, lines)
    t1 = time.monotonic()
    pid = _start(target, None)
    _wait({pid: t1}, 1800)
    timeout = 3 * (time.monotonic() - t1) + 10
    # (mutant, stage): stage 1 runs the covering tests, stage 2 all of them
    pending: list[tuple[Mutant, int]] = [(m, 1) for m in muts]
    running: dict[int, tuple[Mutant, int, float]] = {}
    done = 0
    try:
        while pending or running:
            while pending and len(running) < jobs:
                m, stage = pending.pop(0)
                try:
                    code = compile(apply(tree, m), str(REPO / target.path), "exec")
                except (SyntaxError, ValueError, TypeError):
                    res.killed += 1  # cannot even be compiled: no one could ship it
                    done += 1
                    continue
                wanted = covering.get(m.index) if stage == 1 else None
                if stage == 1 and wanted is not None and not wanted:
                    pending.insert(0, (m, 2))  # no test runs that line: only stage 2 tells
                    continue
                running[_start(target, code, wanted)] = (m, stage, time.monotonic())
            pid, outcome = _wait({p: t for p, (_, _, t) in running.items()}, timeout)
            m, stage, _ = running.pop(pid)
            if outcome == "survived" and stage == 1:
                pending.insert(0, (m, 2))
                continue
            done += 1
            if outcome == "timeout":
                res.timeout += 1
            elif outcome == "survived":
                if (name, m.key) in equivalent:
                    res.equivalent += 1
                else:
                    res.survivors.append(m)
            elif outcome in ("killed", "error"):
                res.killed += 1
            else:
                sys.exit(f"{name}: pytest ended with {outcome} on mutant {m.key}: check the runner")
            if verbose:
                print(f"  {outcome:8} {target.path}:{m.line} {m.op}: {m.key}", flush=True)
            elif sys.stderr.isatty():
                print(f"\r{name}: {done}/{len(muts)}", end="", file=sys.stderr, flush=True)
    finally:
        for pid in running:
            _kill(pid)
    if sys.stderr.isatty() and not verbose:
        print("\r", end="", file=sys.stderr)
    res.seconds = time.monotonic() - t0
    res.survivors.sort(key=lambda m: m.line)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("modules", nargs="*", metavar="MODULE",
                    help=f"some of: {', '.join(MODULES)} (default: all)")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="mutants run at a time")
    ap.add_argument("--tests", nargs="+", metavar="FILE",
                    help="run these test files instead of the module's own (e.g. to compare)")
    ap.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every mutant's outcome")
    args = ap.parse_args(argv)
    names = args.modules or list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        ap.error(f"unknown module {unknown[0]!r}: choose from {', '.join(MODULES)}")
    if args.list:
        for name in names:
            for m in mutants(MODULES[name])[1]:
                print(f"{MODULES[name].path}:{m.line} {m.op}: {m.key}")
        return 0
    for mod in _PRELOAD:
        try:
            __import__(mod)
        except ImportError:
            pass
    assert not any(k == "companion" or k.startswith("companion.") for k in sys.modules)
    os.environ["PLN_HYPOTHESIS_PROFILE"] = "mutation"  # no example database, derandomized
    os.environ.setdefault("PLN_SHARED", str(REPO.parent / "shared"))
    if args.tests:
        for name in names:
            MODULES[name] = replace(MODULES[name], tests=tuple(args.tests))
    results = []
    for name in names:
        res = run_module(name, args.jobs, args.verbose)
        results.append(res)
        print(f"{MODULES[name].path}: {res.total} mutants, score {res.score:.1f} % "
              f"({res.seconds:.0f} s)", flush=True)
        for m in res.survivors:
            print(f"  survived {MODULES[name].path}:{m.line} {m.op}: {m.key}", flush=True)
    print()
    print(f"{'module':34} {'mutants':>7} {'killed':>6} {'timeout':>7} {'equiv.':>6} "
          f"{'survived':>8} {'score':>7}")
    for r in results:
        print(f"{MODULES[r.name].path:34} {r.total:7} {r.killed:6} {r.timeout:7} "
              f"{r.equivalent:6} {len(r.survivors):8} {r.score:6.1f}%")
    return 0 if all(not r.survivors for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
