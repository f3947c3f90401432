"""The package's stages import forwards only (``docs/architecture.md``): a module may import its own package and
the stages below it, never a later stage, and there are no import cycles. Function-local (lazy) imports count
too: a lazy import of a later stage is still a backward reach."""

from __future__ import annotations

import ast
from pathlib import Path

import zkchain

ROOT = Path(zkchain.__file__).parent

#: stage of each package or module (longest prefix wins); a module may import stages ≤ its own, and within one
#: stage only its own package
STAGES = {
    "zkchain.version": 0, "zkchain.errors": 0, "zkchain.crypto": 1, "zkchain.onnx": 2, "zkchain.quant": 3,
    "zkchain.models": 4, "zkchain.compiler.circuit": 5, "zkchain.blocks": 6, "zkchain.compiler": 7,
    "zkchain.protocol": 8, "zkchain.prover": 9, "zkchain.verifier": 9, "zkchain.evm": 11, "zkchain.api": 12, "zkchain.app": 13,
    "zkchain.cli": 14, "zkchain.__main__": 15,
    "zkchain": 16,  # the package root is the Python API facade (compile, setup, prove, ...): the last stage
}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _stage(mod: str) -> tuple[int, str]:
    best = max((p for p in STAGES if mod == p or mod.startswith(p + ".")), key=len)
    return STAGES[best], best


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported zkchain module, at module level?) for every import in the file."""
    tree = ast.parse(path.read_text())
    top = set(map(id, tree.body))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("zkchain"):
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            mod = max((n for n in names if (ROOT.parent / (n.replace(".", "/") + ".py")).exists()
                       or (ROOT.parent / n.replace(".", "/") / "__init__.py").exists()), key=len, default=node.module)
            out.append((mod, id(node) in top))
        elif isinstance(node, ast.Import):
            out += [(a.name, id(node) in top) for a in node.names if a.name.startswith("zkchain")]
    return out


def _graph() -> dict[str, list[tuple[str, bool]]]:
    return {_module(p): _imports(p) for p in sorted(ROOT.rglob("*.py"))}


def _backward(mod: str, target: str) -> bool:
    s, pkg = _stage(mod)
    t, tpkg = _stage(target)
    return t > s or (t == s and tpkg != pkg)


def test_every_import_goes_forwards():
    bad = [f"{mod} (stage {_stage(mod)[0]}) imports {target} (stage {_stage(target)[0]})"
           for mod, imports in _graph().items() for target, _ in imports if _backward(mod, target)]
    assert not bad, "backward imports:\n" + "\n".join(bad)


def test_no_import_cycles_at_module_level():
    graph = {m: {t for t, top in imps if top and t != m} for m, imps in _graph().items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(m, path):
        state[m] = 1
        for t in graph.get(m, ()):
            if state.get(t) == 1:
                cycles.append(" -> ".join(path[path.index(t):] + [t]) if t in path else f"{m} -> {t}")
            elif t not in state:
                visit(t, path + [t])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_checker_sees_a_backward_import():
    """The rule can fail: the verifier reaching into the prover, or a block into the lowering, is reported."""
    assert _backward("zkchain.verifier.verify", "zkchain.prover.keys")
    assert _backward("zkchain.blocks.matmul", "zkchain.compiler.lower")
    assert _backward("zkchain.compiler.circuit", "zkchain.blocks.common")
    assert not _backward("zkchain.evm.yul", "zkchain.verifier.loader")
