"""The layers import one way: no import cycles between hyosan's modules, and an import inside a
function only where it loads something heavy lazily, with a comment saying why (DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import hyosan

PACKAGE = Path(hyosan.__file__).parent


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def top_level_imports(path: Path, known: set[str]) -> set[str]:
    """hyosan modules imported when ``path`` is imported (not under ``if TYPE_CHECKING``)."""
    found: set[str] = set()

    def visit(body):
        for node in body:
            if isinstance(node, ast.If) and not _is_type_checking(node):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in known)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    found.add(full if full in known else node.module)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {m for m in found if m in known}


def test_no_import_cycles():
    mods = modules()
    graph = {m: top_level_imports(p, set(mods)) - {m} for m, p in mods.items()}
    # Package __init__ files that re-export their modules are not edges back up: drop the edge
    # from a module to its own parent package.
    for m, deps in graph.items():
        graph[m] = {d for d in deps if not m.startswith(d + ".")}
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            strong(v)
    assert cycles == []


def function_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import inside a function that has no comment saying why: on its
    line, or in the block of imports and comments it belongs to."""
    lines = path.read_text(encoding="utf-8").splitlines()
    tree = ast.parse("\n".join(lines))
    bad = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            i = node.lineno - 1
            block = [lines[i]]
            j = i - 1
            while j >= 0 and (lines[j].strip().startswith(("import ", "from ", "#")) or not lines[j].strip()):
                block.append(lines[j])
                j -= 1
            k = node.end_lineno
            while k < len(lines) and (lines[k].strip().startswith(("import ", "from ", "#"))):
                block.append(lines[k])
                k += 1
            if not any("#" in line for line in block):
                bad.append((node.lineno, getattr(node, "module", None) or node.names[0].name))
    return bad


def test_imports_inside_functions_say_why():
    bad = {
        f"{path.relative_to(PACKAGE)}:{line} {mod}"
        for path in modules().values()
        for line, mod in function_imports(path)
    }
    assert sorted(bad) == []
