"""Jupyter notebook -> plain Python source, without nbformat.

Only code cells are kept; markdown, raw cells and outputs are dropped. IPython
syntax (line magics, ``!shell`` escapes, cell magics, ``obj?`` help) is not
Python, so it is replaced by a ``# [accelgrade] removed: ...`` comment on the
same line, keeping line numbers inside a cell stable. Each cell is preceded by
a ``# %% cell N`` marker (the jupytext "percent" format) so that a line number
in a traceback can be traced back to a cell.
"""
from __future__ import annotations

import json
import re

from grader.intake.errors import ExtractionError

MARK = "# [accelgrade] removed: "

# Cell magics whose body is ordinary Python that the rest of the notebook may
# depend on: drop the magic line, keep the body. Any other cell magic
# (%%bash, %%writefile, %%html, ...) has a non-Python body: drop the cell.
KEEP_BODY_CELL_MAGICS = {"time", "timeit", "capture"}

_MAGIC_NAME = re.compile(r"(%%?|!!?)([^\s(;]*)")
# `x = %time f()`, `files = !ls`: IPython's assignment forms.
_ASSIGN_MAGIC = re.compile(r"^(?P<target>[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*(?P<rest>[%!].*)$")
# `np.dot?`, `??obj`: IPython help.
_HELP = re.compile(r"^\?{0,2}[A-Za-z_][\w.]*\?{0,2}$")
# Automagic package installs, valid in IPython without the %.
_BARE_INSTALL = re.compile(r"^(pip|conda|mamba)\s+(install|uninstall)\b")


def _magic_name(text: str) -> str:
    m = _MAGIC_NAME.match(text)
    return (m.group(1) + m.group(2)) if m else text.split()[0]


def _time_body(text: str) -> str | None:
    """The statement of a ``%time <stmt>`` line magic, or None for other magics.

    ``%time C = matmul(A, B)`` runs and keeps C; later cells may use it, so
    the statement is kept (dropping it would make the import fail).
    """
    m = re.match(r"%time(?:\s+(.*))?$", text)
    if m is None:
        return None
    return (m.group(1) or "").strip()


def _rewrite(line: str) -> tuple[str, str] | None:
    """(replacement, removed magic name) when a statement-starting line is IPython syntax."""
    stripped = line.strip()
    if not stripped:
        return None
    indent = line[: len(line) - len(line.lstrip())]
    # Inside a block a bare comment would leave the block empty: add `pass`.
    blank = indent + ("pass  " if indent else "")

    def keep(statement: str, name: str) -> tuple[str, str]:
        if statement.endswith("\\"):  # a comment would break the continuation
            return indent + statement, name
        return f"{indent}{statement}  {MARK}{name}", name

    if stripped[0] in "%!":
        name = _magic_name(stripped)
        body = _time_body(stripped)
        if body:
            return keep(body, name)
        return blank + MARK + name, name
    m = _ASSIGN_MAGIC.match(stripped)
    if m:
        rest = m.group("rest")
        name = _magic_name(rest)
        body = _time_body(rest)
        if body:
            return keep(f"{m.group('target')} = {body}", name)
        return blank + MARK + name, name
    if "?" in stripped and _HELP.match(stripped):
        return blank + MARK + "? (help)", "?"
    m = _BARE_INSTALL.match(stripped)
    if m:
        return blank + MARK + m.group(1), m.group(1)
    return None


def _scan(line: str, state: dict) -> None:
    """Advance the string/bracket/continuation state over one physical line.

    Lets magic detection look only at lines that start a statement: a `%` or
    `!` inside a triple-quoted string or an open bracket (`a = (b\\n % c)`) is
    Python and must stay.
    """
    quote = state["quote"]
    depth = state["depth"]
    i, n = 0, len(line)
    comment = False
    while i < n:
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
            i += 1
            continue
        if ch == "#":
            comment = True
            break
        if ch in "'\"":
            quote = ch * 3 if line.startswith(ch * 3, i) else ch
            i += len(quote)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        i += 1
    escaped_newline = i > n  # a trailing backslash inside a string
    if quote in ("'", '"') and not escaped_newline:
        quote = None  # an unterminated one-line string ends here; compile will say so
    state["quote"] = quote
    state["depth"] = depth
    state["cont"] = quote is None and not comment and line.endswith("\\")


def clean_cell(source: str) -> tuple[str, list[str]]:
    """One code cell with IPython syntax replaced; returns (text, removed magic names)."""
    lines = source.splitlines()
    removed: list[str] = []
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = _magic_name(lines[first].lstrip())
        removed.append(name)
        if name[2:] not in KEEP_BODY_CELL_MAGICS:
            return f"{MARK}{name} cell", removed
        lines[first] = MARK + name

    state = {"quote": None, "depth": 0, "cont": False}
    for i, line in enumerate(lines):
        at_start = state["quote"] is None and state["depth"] == 0 and not state["cont"]
        rewritten = _rewrite(line) if at_start else None
        if rewritten is not None:
            lines[i], name = rewritten
            removed.append(name)
        # Scan what is left: a kept `%time` statement may open a bracket.
        _scan(lines[i], state)
    return "\n".join(lines), removed


def _cell_source(cell: dict, index: int, key: str) -> str:
    src = cell.get(key, "")
    if isinstance(src, str):
        return src
    if isinstance(src, list) and all(isinstance(part, str) for part in src):
        return "".join(src)
    raise ExtractionError(f"cell {index} has an unreadable source (expected text)")


def _code_cells(nb: object, name: str) -> list[str]:
    """Sources of the code cells, for nbformat 4 (and the older 3)."""
    if not isinstance(nb, dict):
        raise ExtractionError(f"{name} is not a Jupyter notebook (the JSON is not an object with cells)")
    major = nb.get("nbformat")
    if isinstance(nb.get("cells"), list):
        cells, key = nb["cells"], "source"
    elif major == 3 and isinstance(nb.get("worksheets"), list):
        cells = [c for ws in nb["worksheets"] if isinstance(ws, dict) for c in ws.get("cells", [])]
        key = "input"
    else:
        raise ExtractionError(f"{name} is not a Jupyter notebook (no list of cells found)")
    sources = []
    for index, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            raise ExtractionError(f"{name} is not a valid notebook: cell {index} is not an object")
        if cell.get("cell_type") == "code":
            try:
                sources.append(_cell_source(cell, index, key))
            except ExtractionError as exc:
                raise ExtractionError(f"{name} is not a valid notebook: {exc}") from None
    return sources


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def notebook_to_source(data: bytes, name: str) -> tuple[str, list[str]]:
    """Python source of a notebook's code cells, plus notes; ExtractionError when unreadable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionError(
            f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}), "
            "so it cannot be a Jupyter notebook"
        ) from None
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExtractionError(
            f"{name} is not a valid notebook: its JSON is broken at line {exc.lineno}, "
            f"column {exc.colno} ({exc.msg}); open it in Jupyter, save it and hand it in again"
        ) from None
    except RecursionError:
        raise ExtractionError(f"{name} is not a valid notebook: its JSON is nested too deeply") from None

    notes: list[str] = []
    removed: list[str] = []
    parts: list[str] = []
    cells = _code_cells(nb, name)
    for number, source in enumerate(cells, 1):
        if not source.strip():
            continue
        cleaned, names = clean_cell(source)
        removed.extend(names)
        parts.append(f"# %% cell {number}\n{cleaned.rstrip()}\n")
    if not cells:
        notes.append(f"{name} has no code cells")
    if removed:
        shell = sum(1 for n in removed if n.startswith("!"))
        magics = len(removed) - shell
        kinds = [_plural(magics, "IPython magic")] if magics else []
        kinds += [_plural(shell, "shell escape")] if shell else []
        listed = ", ".join(dict.fromkeys(removed))  # unique, in order of appearance
        notes.append(f"{' and '.join(kinds)} removed from the notebook ({listed})")
    return "\n".join(parts), notes
