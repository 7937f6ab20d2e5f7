"""Generate docs/cli.md from the command tree, so the reference cannot drift from the code.

`make docs` writes it; a test fails when the committed file differs.
"""

from __future__ import annotations

from typing import Any

import typer

from marsad.cli.app import app, load_commands

load_commands()


def _walk(cmd: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    found = [(path, cmd)]
    if hasattr(cmd, "commands"):
        for name in sorted(cmd.commands):
            found += _walk(cmd.commands[name], [*path, name])
    return found


def _param(p: Any) -> str:
    if p.param_type_name == "argument":
        return f"| `{p.name.upper()}` | argument | {getattr(p, 'help', '') or ''} |"
    names = ", ".join(f"`{n}`" for n in p.opts)
    default = p.default.value if hasattr(p.default, "value") else p.default
    shown = "" if default in (None, False, ()) or p.is_flag else f" (default: `{default}`)"
    kind = "flag" if p.is_flag else "option"
    return f"| {names} | {kind} | {(p.help or '').replace('|', '/')}{shown} |"


def render() -> str:
    """The CLI reference as Markdown."""
    root = typer.main.get_command(app)
    lines = [
        "# CLI reference",
        "",
        "Generated from the command tree by `make docs` (`python -m marsad.cli.reference`); "
        "a test keeps it in step with the code. Every command prints a table by default and JSON with `--json`; "
        "errors go to stderr as one sentence with a non-zero exit code.",
        "",
    ]
    for path, cmd in _walk(root, ["marsad"])[1:]:
        if hasattr(cmd, "commands"):
            lines += [f"## `{' '.join(path)}`", "", (cmd.help or "").strip(), ""]
            continue
        lines += [f"### `{' '.join(path)}`", "", (cmd.help or "").strip().split("\n")[0], ""]
        params = [p for p in cmd.params if p.name != "help"]
        if params:
            lines += ["| parameter | type | meaning |", "|---|---|---|"]
            lines += [_param(p) for p in params]
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())
