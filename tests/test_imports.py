"""No import circle, and the layers import only downwards.

1. Every project module imports on its own in a fresh interpreter. A circle between two modules
   breaks only when one particular module is imported first, so each module gets an interpreter
   of its own: one helper process loads the third-party libraries once, then forks a child per
   module, which starts with none of the project's modules loaded.
2. Statically, over the AST: the graph of module-level imports (what runs at import time,
   `if TYPE_CHECKING:` blocks excluded) has no cycle, and no module - imports inside functions
   included - reaches up a layer: server/domain imports no services, models, web, schema or jobs;
   server/services no web, schema or jobs; server/queue (below the services) no services or jobs;
   web/ and schema/ open no transaction and write no audit entry; server/auth.py touches no rows.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("server", "schema", "jobs")
PROJECT = (*PACKAGES, "main")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {"main": ROOT / "main.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


MODULES = project_modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(node: ast.AST, module: str, *, top_level_only: bool) -> Iterator[str]:
    """Names imported by `node`'s statements (absolute, as written; relative ones resolved)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import):
            yield from (alias.name for alias in child.names)
        elif isinstance(child, ast.ImportFrom):
            base = child.module or ""
            if child.level:  # relative: from the module's package upwards
                package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
                package = package[: len(package) - child.level + 1]
                base = ".".join([*package, *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in child.names)
        elif top_level_only and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue  # runs later, not at import time
        elif top_level_only and isinstance(child, ast.If) and _is_type_checking(child.test):
            yield from _imports(ast.Module(body=child.orelse, type_ignores=[]), module, top_level_only=True)
        else:
            yield from _imports(child, module, top_level_only=top_level_only)


def _project_targets(names: Iterator[str]) -> set[str]:
    """The project modules a list of imported names refers to: the most specific module of each.

    The packages above a module are not edges: Python has always started them before the module
    itself runs, whichever module is imported first.
    """
    targets: set[str] = set()
    for name in names:
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            candidate = ".".join(parts[:i])
            if candidate in MODULES:
                targets.add(candidate)
                break
    return targets


def import_graph(*, top_level_only: bool) -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        graph[module] = _project_targets(_imports(tree, module, top_level_only=top_level_only)) - {module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_module_level_import_graph_has_no_cycle() -> None:
    graph = import_graph(top_level_only=True)
    assert len(graph) > 50, "the walk found the project's modules"
    assert "server.queue" in graph["server.services.jobs"], "the walk sees module-level imports"
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_circle() -> None:
    # The circle issue 10 removed: services.jobs -> (jobs) queue -> worker -> services.jobs.
    graph = {k: set(v) for k, v in import_graph(top_level_only=True).items()}
    graph["server.queue"].add("jobs.worker")
    assert any({"server.queue", "jobs.worker", "server.services.jobs"} <= set(c) for c in cycles(graph))


# What a layer must not import, anywhere in its modules (imports inside functions included).
FORBIDDEN = {
    "server.domain": ("server.services", "server.models", "server.web", "server.db", "server.app",
                      "server.runtime", "server.queue", "schema", "jobs", "tortoise", "starlette", "strawberry"),
    "server.services": ("server.web", "server.app", "server.runtime", "schema", "jobs", "starlette", "strawberry"),
    "server.queue": ("server.services", "server.models", "server.web", "schema", "jobs"),
    "server.models": ("server.services", "server.web", "schema", "jobs"),
    "server.web": ("server.services.base.atomic", "server.services.audit.record", "tortoise.transactions", "jobs"),
    "schema": ("server.services.base.atomic", "server.services.audit.record", "tortoise.transactions", "jobs"),
    # Pure helpers: no rows, no services.
    "server.auth": ("server.models", "server.services", "tortoise"),
}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_layers_import_only_downwards() -> None:
    offences = []
    for module, path in MODULES.items():
        for layer, forbidden in FORBIDDEN.items():
            if not _within(module, layer):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for name in set(_imports(tree, module, top_level_only=False)):
                if any(_within(name, f) for f in forbidden):
                    offences.append(f"{module} imports {name}")
    assert sorted(set(offences)) == []


# Run in a child interpreter: load the third-party libraries once, then fork one child per project
# module so that each import starts with no project module in sys.modules.
_FORKING_IMPORTER = r"""
import importlib, json, os, sys, traceback
modules, preload = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for name in preload:
    try:
        importlib.import_module(name)
    except Exception:  # an attribute, not a module
        pass
failures, running = {}, {}


def reap():
    pid, status = os.wait()
    name, read = running.pop(pid)
    out = os.read(read, 65536)  # a child writes at most 4000 bytes: it never blocks on the pipe
    os.close(read)
    if status:
        failures[name] = out.decode(errors="replace") or f"exit status {status}"


for name in modules:
    if len(running) >= 3:
        reap()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        status = 0
        try:
            importlib.import_module(name)
        except BaseException:
            os.write(write, traceback.format_exc().encode()[-4000:])
            status = 1
        os.close(write)
        os._exit(status)
    os.close(write)
    running[pid] = (name, read)
while running:
    reap()
print(json.dumps(failures))
"""


def _third_party_modules() -> list[str]:
    """Every non-project module the project imports at module level (`from a.b import c` gives a.b and
    a.b.c; the latter is tried and skipped when it is not a module)."""
    names: set[str] = set()
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for name in _imports(tree, module, top_level_only=True):
            if name and name.split(".")[0] not in (*PROJECT, "__future__"):
                names.add(name)
    return sorted(names)


def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    modules = sorted(MODULES)
    out = subprocess.run(
        [sys.executable, "-c", _FORKING_IMPORTER, json.dumps(modules), json.dumps(_third_party_modules())],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=True,
    )
    failures = json.loads(out.stdout.strip().splitlines()[-1])
    assert failures == {}, "\n\n".join(f"{name}:\n{tb}" for name, tb in failures.items())


def test_adapters_open_no_transaction_and_write_no_audit_entry() -> None:
    """Views and resolvers present; a transaction or an audit entry (login and logout included) is a
    service's. Catches `atomic()` and `audit.record(...)` however they were imported."""
    offences = []
    for module, path in MODULES.items():
        if not (_within(module, "server.web") or _within(module, "schema")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if (isinstance(func, ast.Name) and func.id in {"atomic", "in_transaction"}) or (
                    isinstance(func, ast.Attribute) and (func.attr in {"atomic", "in_transaction"} or (
                        func.attr == "record" and isinstance(func.value, ast.Name) and func.value.id == "audit"))):
                offences.append(f"{module}:{node.lineno}")
    assert offences == []
