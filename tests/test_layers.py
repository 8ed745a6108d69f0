"""The package's structure, so it cannot drift: the layers of pyproject.toml's import-linter
contracts hold, no module imports itself round a circle (function-local imports included),
modules stay small, and function-local imports are kept for optional dependencies and for
heavy backends whose reason is written beside them (``import tinyemo`` stays light)."""
from __future__ import annotations

import ast
import sys

import grimp
import pytest
from importlinter.api import read_configuration  # noqa: F401  (import-linter is installed)

from tests.helpers import ROOT

PACKAGE = ROOT / "tinyemo"
MAX_LINES = 400
# What a function may import locally: optional extras, heavy backends, and the one command of
# the CLI that runs (tinyemo.cli imports command modules by name).
OPTIONAL = ("optuna", "distributed", "dask", "onnx", "onnxruntime", "opensmile", "sklearn",
            "matplotlib", "pandas", "pyarrow", "audonnx", "yaml", "torch", "numba.cuda",
            "tinyemo.engine.cuda_memory", "tomllib", "tomli", "fcntl", "kaldi_native_fbank")


def test_the_import_linter_contracts_hold():
    from importlinter.cli import lint_imports
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def _cycles(graph, modules) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in modules:
                continue
            if w not in index:
                visit(w)
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
                out.append(sorted(comp))
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for m in sorted(modules):
        if m not in index:
            visit(m)
    return out


def test_no_module_imports_itself_round_a_circle():
    graph = grimp.build_graph("tinyemo", cache_dir=None)
    # a package's __init__ re-exporting its modules is a face, not a dependency: leave the
    # package modules out and keep every edge between real modules
    modules = {m for m in graph.modules if not (PACKAGE.parent / (m.replace(".", "/"))).is_dir()}
    assert _cycles(graph, modules) == []


def _python_files():
    return sorted(PACKAGE.rglob("*.py")) + sorted((ROOT / "kernels").rglob("*.py"))


def test_modules_stay_small():
    long = {str(p.relative_to(ROOT)): n for p in _python_files()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_function_local_imports_only_for_optional_dependencies():
    local = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text().splitlines()
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                else:
                    continue
                reason = "#" in lines[node.lineno - 1]      # a heavy backend, said why
                for name in names:
                    if not reason and not any(name == o or name.startswith(o + ".")
                                              for o in OPTIONAL):
                        local.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert local == []


def test_no_private_name_is_imported_from_another_module():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinyemo"):
                parts = node.module.split(".") + [a.name for a in node.names]
                if any(p.startswith("_") and not p.startswith("__") for p in parts):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}")
    assert found == []


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"]])
def test_python_m_tinyemo_is_the_tinyemo_command(argv):
    import subprocess
    got = subprocess.run([sys.executable, "-m", "tinyemo", *argv], capture_output=True,
                         text=True, timeout=120)
    assert got.returncode == 0, got.stderr
    assert got.stdout.startswith("usage: tinyemo")
