"""Every command and code sample in the Markdown docs runs, and prints what the docs show.

A sample is a fenced block of one of these languages; other blocks (``json``, ``text``, plain)
are shown output or illustration and are not run:

- ``console``: ``$ command`` lines (``\\`` continues a line), each followed by its expected
  output (standard output, then standard error). ``inputtokens`` is this package's CLI
  (``python -m inputtokens``), run in a scratch folder shared by the file's samples. A line that
  is only ``...`` stands for any lines. Ids (``conv_…``, ``msg_…``, ``file-…``, ``resp_…``),
  ``created_at`` times, ``latency`` figures and process ids may differ: an id seen first in
  the output is then
  substituted in the commands that follow. A console block whose last command shows no output
  and is followed by a ``json`` block expects that JSON (compared as values).
- ``python``: run statement by statement in one namespace per file. An expression with a
  value-like comment (``# 11``, ``# True``, ``# 'gpt-5': prose``, ``# TokenCount(...): prose``;
  on its line or the line after) must have that ``repr`` (or print that, for ``print(...)``);
  ``...`` matches anything, and prose after ``: `` or `` (`` is not compared. Prose comments
  (``# the detailed view``) are counted and reported, not compared.
- ``sh``: must be marked ``skip`` (the run-and-compare form is ``console``).

An HTML comment right before a block says how to run it:

- ``<!-- sample: skip (reason) -->``: not run; counted and reported with its reason.
- ``<!-- sample: server K=V ... -->``: against a fresh server of this package started with
  those settings; ``http://127.0.0.1:8000`` in the sample is replaced by its address.
- ``<!-- sample: env K=V ... -->``: the CLI runs with those variables.
- ``<!-- sample: setup (code) -->``: runs ``code`` (in the block's language) first.

Where a sample is wrong, fix the doc, not this test.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai
import pytest

from inputtokens.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
MARKDOWN = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN = {"console", "python", "sh"}
LOCAL_URL = "http://127.0.0.1:8000"
# The CLI as the console script runs it (click names the program after argv[0]).
CLI = "import sys; sys.argv[0] = 'inputtokens'; from inputtokens.__main__ import main; main()"

MARKER = re.compile(r"^<!--\s*sample:\s*(.*?)\s*-->\s*$")
ID = re.compile(r"\b(?:conv|msg|resp|file)[_-][0-9a-f]{16,}\b")
VOLATILE = [
    (re.compile(r'("(?:created_at|expires_at)": )\d+'), r"\1N"),
    # How long a count took (the rich view's extra_fields.latency): differs on every run.
    (re.compile(r'("latency": )[\d.e-]+'), r"\1N"),
    (re.compile(r"process \[\d+\]"), "process [N]"),
]
VALUE_LIKE = re.compile(r"""^(?:-?\d|True\b|False\b|None\b|['"(\[{]|[A-Za-z_]\w*\()""")

# What every run saw, for the terminal summary (tests/conftest.py prints it).
REPORT: dict[str, Any] = {"run": 0, "checked": 0, "prose": 0, "skipped": []}


@dataclass
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    marker: str = ""
    follower: Block | None = None  # the block right after it, if nothing but blank lines between

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


@dataclass
class Options:
    skip: str | None = None
    server: bool = False
    env: dict[str, str] = field(default_factory=dict)
    setup: str = ""


def parse_options(marker: str) -> Options:
    options = Options()
    rest = marker
    while rest:
        m = re.match(
            r"(skip|setup)\s*\((.*?)\)\s*(?=$|;)|(server|env)\b|([A-Z_][A-Z0-9_]*)=(\S*)", rest
        )
        assert m, f"unreadable sample marker: {marker!r}"
        if m.group(1) == "skip":
            options.skip = m.group(2)
        elif m.group(1) == "setup":
            options.setup = m.group(2)
        elif m.group(3) == "server":
            options.server = True
        elif m.group(4):
            options.env[m.group(4)] = m.group(5)
        rest = rest[m.end() :].lstrip(" ;")
    return options


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    marker, blank_since_close, i = "", False, 0
    previous: Block | None = None
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line.strip())
        if m:
            marker = m.group(1)
        elif line.startswith("```"):
            lang = line[3:].strip()
            start = i
            i += 1
            body: list[str] = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            block = Block(path, start + 1, lang, "\n".join(body) + "\n", marker)
            if previous is not None and blank_since_close:
                previous.follower = block
            found.append(block)
            previous, marker, blank_since_close = block, "", True
        elif line.strip():
            assert not marker, (
                f"{path.name}:{i + 1}: a sample marker must come right before a block"
            )
            blank_since_close = False
        i += 1
    return found


# ---- console ------------------------------------------------------------------------------


def commands(text: str) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        assert line.startswith("$ "), f"console output before any command: {line!r}"
        cmd = line[2:]
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd + "\n" + lines[i]
        i += 1
        expected: list[str] = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        out.append((cmd, expected))
    return out


def normalize(lines: list[str]) -> list[str]:
    result = []
    for line in lines:
        line = line.rstrip()
        for pattern, repl in VOLATILE:
            line = pattern.sub(repl, line)
        result.append(line)
    while result and not result[-1]:
        result.pop()
    return result


def line_matches(expected: str, actual: str, ids: dict[str, str]) -> dict[str, str] | None:
    """`ids` extended by the ids this line binds, or None when it does not match."""
    pattern, names, pos = "", [], 0
    for m in ID.finditer(expected):
        pattern += re.escape(expected[pos : m.start()])
        if m.group() in ids:
            pattern += re.escape(ids[m.group()])
        else:
            pattern += r"([a-z]+[_-][0-9a-f]+)"
            names.append(m.group())
        pos = m.end()
    pattern += re.escape(expected[pos:])
    found = re.fullmatch(pattern, actual)
    if not found:
        return None
    bound = dict(ids)
    for name, value in zip(names, found.groups(), strict=True):
        if bound.setdefault(name, value) != value:
            return None
    return bound


def output_matches(
    expected: list[str], actual: list[str], ids: dict[str, str]
) -> dict[str, str] | None:
    """Line by line, ``...`` standing for any lines (backtracking; the samples are short)."""
    if not expected:
        return ids if not actual else None
    if expected[0].strip() == "...":
        for skip in range(len(actual) + 1):
            bound = output_matches(expected[1:], actual[skip:], ids)
            if bound is not None:
                return bound
        return None
    if not actual:
        return None
    bound = line_matches(expected[0], actual[0], ids)
    return None if bound is None else output_matches(expected[1:], actual[1:], bound)


@dataclass
class Context:
    workdir: Path
    env: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)
    namespace: dict[str, Any] = field(default_factory=dict)
    clients: list[openai.OpenAI] = field(default_factory=list)  # closed when the file is done
    status: int = 0


def substitute(text: str, ctx: Context, base_url: str | None) -> str:
    for doc_id, real in ctx.ids.items():
        text = text.replace(doc_id, real)
    if base_url:
        text = text.replace(LOCAL_URL, base_url)
    return text


def _steady(value: Any) -> Any:
    """A JSON value with the figures that differ on every run (``latency``) blanked."""
    if isinstance(value, dict):
        return {k: "N" if k == "latency" else _steady(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_steady(v) for v in value]
    return value


def shell(cmd: str, ctx: Context, env: dict[str, str]) -> tuple[int, str]:
    # `(exit N)` first: `echo $?` in a sample sees the status of the command before it.
    proc = subprocess.run(
        ["bash", "-c", f"(exit {ctx.status}); {cmd}"],
        cwd=ctx.workdir,
        env={**ctx.env, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    ctx.status = proc.returncode
    return proc.returncode, proc.stdout + proc.stderr


def run_console(block: Block, options: Options, ctx: Context, base_url: str | None) -> None:
    if options.setup:
        rc, out = shell(options.setup, ctx, options.env)
        assert rc == 0, f"{block.where}: setup failed: {out}"
    steps = commands(block.text)
    for n, (cmd, expected) in enumerate(steps):
        rc, out = shell(substitute(cmd, ctx, base_url), ctx, options.env)
        follower = block.follower
        if n == len(steps) - 1 and not expected and follower and follower.lang == "json":
            assert _steady(json.loads(out)) == _steady(json.loads(follower.text)), (
                f"{block.where}: `{cmd}` printed\n{out}\nnot the JSON of {follower.where}"
            )
            REPORT["checked"] += 1
            continue
        bound = output_matches(normalize(expected), normalize(out.splitlines()), ctx.ids)
        assert bound is not None, (
            f"{block.where}: `{cmd}` (exit {rc}) printed\n{out}\n"
            f"the docs show\n" + "\n".join(expected)
        )
        ctx.ids = bound
        REPORT["checked"] += 1


# ---- python -------------------------------------------------------------------------------


def comments(source: str) -> dict[int, tuple[str, bool]]:
    """Line -> (comment text, whether the comment is alone on its line)."""
    found = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            alone = not tok.line[: tok.start[1]].strip()
            found[tok.start[0]] = (tok.string[1:].strip(), alone)
    return found


def value_matches(expected: str, actual: str) -> bool:
    """`expected` is `actual` (``...`` matching anything), possibly followed by prose after
    ``: `` or `` (``."""
    cuts = [len(expected)] + [m.start() for m in re.finditer(r": | \(", expected)]
    for cut in cuts:
        pattern = ".*?".join(re.escape(part) for part in expected[:cut].rstrip().split("..."))
        if re.fullmatch(pattern, actual, re.S):
            return True
    return False


def keep_clients(ctx: Context) -> None:
    """Remember every OpenAI client a sample made, even one a later sample rebinds."""
    ctx.clients += [
        v
        for v in ctx.namespace.values()
        if isinstance(v, openai.OpenAI) and all(v is not c for c in ctx.clients)
    ]


def run_python(block: Block, options: Options, ctx: Context, base_url: str | None) -> None:
    source = substitute(block.text, ctx, base_url)
    if options.setup:
        exec(options.setup, ctx.namespace)
    notes = comments(source)
    tree = ast.parse(source)
    for stmt in tree.body:
        keep_clients(ctx)
        line = stmt.end_lineno or stmt.lineno
        note = notes.get(line)
        if note and note[1]:  # a comment line of its own ends no statement
            note = None
        if note is None and (line + 1) in notes and notes[line + 1][1]:
            note = notes[line + 1]
        code = compile(ast.Module([stmt], []), block.where, "exec")
        if not (isinstance(stmt, ast.Expr) and note and VALUE_LIKE.match(note[0])):
            if note:
                REPORT["prose"] += 1
            exec(code, ctx.namespace)
            continue
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            value = eval(compile(ast.Expression(stmt.value), block.where, "eval"), ctx.namespace)
        is_print = (
            isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Name)
            and stmt.value.func.id == "print"
        )
        if is_print:
            shown = [printed.getvalue().strip()]
        elif isinstance(value, tuple):
            shown = [repr(value), ", ".join(map(repr, value))]
        else:
            shown = [repr(value)]
        assert any(value_matches(note[0], s) for s in shown), (
            f"{block.where}: `{ast.unparse(stmt)}` is {shown[0]}, the docs say # {note[0]}"
        )
        REPORT["checked"] += 1
    keep_clients(ctx)


# ---- the tests ----------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "inputtokens").write_text(
        f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -c {shlex.quote(CLI)} "$@"\n'
    )
    (shim / "inputtokens").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUTTOKENS_", "OPENAI_"))}
    src = str(ROOT / "src")
    env.update(
        PATH=f"{shim}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")])),
        INPUTTOKENS_DATA_DIR=str(tmp_path / "data"),
        COLUMNS="80",
        TERM="dumb",
    )
    yield env


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.name)
def test_samples(
    path: Path,
    tmp_path: Path,
    cli_env: dict[str, str],
    start_server: Callable[[Settings], Any],
) -> None:
    ctx = Context(workdir=tmp_path / "work", env=cli_env)
    ctx.workdir.mkdir()
    try:
        run_file(path, ctx, start_server)
    finally:  # the samples' OpenAI clients hold connections to the servers
        for client in ctx.clients:
            client.close()


def run_file(path: Path, ctx: Context, start_server: Callable[[Settings], Any]) -> None:
    for block in blocks(path):
        if block.lang not in RUN:
            assert not block.marker, f"{block.where}: a sample marker on a {block.lang!r} block"
            continue
        options = parse_options(block.marker)
        if options.skip is not None:
            assert options.skip, f"{block.where}: a skipped sample needs its reason"
            REPORT["skipped"].append(f"{block.where}: {options.skip}")
            continue
        assert block.lang != "sh", (
            f"{block.where}: an sh block is not run: make it a console sample or mark it skip"
        )
        base_url = None
        if options.server:
            base_url = start_server(Settings.from_env(options.env)).base_url
        REPORT["run"] += 1
        if block.lang == "console":
            run_console(block, options, ctx, base_url)
        else:
            with contextlib.chdir(ctx.workdir):
                run_python(block, options, ctx, base_url)
