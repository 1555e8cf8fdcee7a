"""The README is part of the product: every command is documented, and every `pln …` example
in it parses with the real command line (no unknown command or option)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from companion.cli.app import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _examples() -> list[str]:
    blocks = re.findall(r"```(?:sh|console)\n(.*?)```", README, flags=re.DOTALL)
    lines = []
    for block in blocks:
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ")
            for part in line.split(" ; "):
                part = part.split("  #")[0].strip()
                if part.startswith("pln ") and "[" not in part and "|" not in part and "..." not in part:
                    lines.append(re.split(r"\s[<>]\s|\s&&\s", part)[0].strip())
    return lines


EXAMPLES = _examples()


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert first_block == ["pip install . && pln sync && pln inbox",
                           "pip install '.[test]' && python -m pytest"]
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "pip install '.[test]' && python -m pytest" in ci


def test_every_command_is_in_the_readme() -> None:
    group = typer.main.get_command(app)
    names = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(cmd, "commands", None)
        names += [f"pln {name} {s}" for s in sub] if sub else [f"pln {name}"]
    missing = [n for n in names if n not in README]
    assert missing == []
    assert len(EXAMPLES) > 30


@pytest.mark.parametrize("line", EXAMPLES)
def test_readme_examples_parse(line: str) -> None:
    group = typer.main.get_command(app)
    args = shlex.split(line)[1:]
    ctx = group.make_context("pln", list(args))
    cmd = group
    rest = _remaining(ctx)
    while getattr(cmd, "commands", None) and rest:
        name, sub, rest = cmd.resolve_command(ctx, rest)  # type: ignore[attr-defined]
        assert sub is not None, f"unknown command in README: {line}"
        ctx = sub.make_context(name, list(rest), parent=ctx)  # raises on a bad option
        cmd = sub
        rest = _remaining(ctx) if getattr(sub, "commands", None) else []


def _remaining(ctx) -> list[str]:  # type: ignore[no-untyped-def]
    """A group context's unparsed arguments (the subcommand first)."""
    protected = getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", None) or []
    return [*protected, *ctx.args]
