"""The import rules of docs/ARCHITECTURE.md, read from the source with `ast` (run by `make lint` too).

- Nothing imports upward: `webapp/sso/` imports no face (`webapp.api`, `webapp.web`, `webapp.ops`,
  `webapp.cli`) and not Flask.
- A face never imports another face.
- The service's bounded contexts import only those before them in `CONTEXT_ORDER` (so there is no cycle
  between them, and `kernel` imports none), and never a module at the top of `sso/` that imports a
  context (the package itself, the facade, bulk), which may import any of them.
- Within a face, modules form no import cycle (the console's auth → refusals ← responses, not a circle).

Every import counts, also one inside a function or under `if TYPE_CHECKING:`: a type named from a face is
still a dependency on it, and a circle that only typing closes is still a circle to a reader.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "webapp"
CONTEXT_ORDER = ("kernel", "accounts", "credentials", "sessions", "email", "zato", "privacy", "policies")
FACES = ("webapp.api", "webapp.web", "webapp.scim", "webapp.ops", "webapp.cli")
SSO = "webapp.sso"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def exists(module: str) -> bool:
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(path: Path, tree: ast.AST) -> Iterator[tuple[str, int]]:
    """(module, line) for every import in the file, relative ones resolved; `from package import module`
    names the module itself."""
    name = module_name(path)
    package = name if is_package(path) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            submodules = [f"{target}.{alias.name}" for alias in node.names if exists(f"{target}.{alias.name}")]
            if submodules and len(submodules) == len(node.names):
                for submodule in submodules:
                    yield submodule, node.lineno
            else:
                yield target, node.lineno
                yield from ((submodule, node.lineno) for submodule in submodules)


def import_table(files: list[Path]) -> dict[str, list[tuple[str, int]]]:
    return {module_name(path): list(imported_modules(path, ast.parse(path.read_text(), str(path)))) for path in files}


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def context_of(module: str) -> str | None:
    """The bounded context a module of `webapp/sso/` belongs to; None for the top-level modules."""
    parts = module.split(".")
    if len(parts) < 3 or parts[:2] != ["webapp", "sso"]:
        return None
    return parts[2] if (PACKAGE / "sso" / parts[2]).is_dir() else None


def composes(table: dict[str, list[tuple[str, int]]], module: str) -> bool:
    """Whether a module at the top of `sso/` puts contexts together (the package itself, the facade, bulk):
    it imports a context, so no context may import it. A top-level module that imports no context (a
    record every context shares) is below them all."""
    return module == SSO or any(context_of(target) for target, _ in table.get(module, []))


def violations(table: dict[str, list[tuple[str, int]]]) -> list[str]:
    """Every broken rule, as `importer:line imports target (why)`."""
    found = []
    for importer, imports in table.items():
        own_face = next((face for face in FACES if within(importer, face)), None)
        context = context_of(importer)
        for target, line in imports:
            where = f"{importer}:{line} imports {target}"
            if within(importer, SSO):
                if any(within(target, face) for face in FACES):
                    found.append(f"{where} (the service imports a face)")
                if target.split(".")[0] == "flask" or target.startswith("flask_"):
                    found.append(f"{where} (the service imports Flask)")
            if own_face and any(within(target, face) for face in FACES if face != own_face):
                found.append(f"{where} (a face imports another face)")
            if context is not None and within(target, SSO):
                other = context_of(target)
                if other is None:
                    if composes(table, target):
                        found.append(f"{where} (a context imports the top of sso/, which imports the contexts)")
                elif other != context and (
                    other not in CONTEXT_ORDER
                    or context not in CONTEXT_ORDER
                    or CONTEXT_ORDER.index(other) > CONTEXT_ORDER.index(context)
                ):
                    found.append(f"{where} (contexts import only those before them: {' < '.join(CONTEXT_ORDER)})")
    return found


def cycles(table: dict[str, list[tuple[str, int]]], package: str) -> list[list[str]]:
    """The import cycles among the modules of `package` (one path each)."""
    graph = {
        module: sorted({target for target, _ in imports if within(target, package) and target in table})
        for module, imports in table.items()
        if within(module, package)
    }
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in graph.get(module, []):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


@functools.cache
def project_table() -> dict[str, list[tuple[str, int]]]:
    """The imports of every module of `webapp/` (read once per run; callers copy before changing it)."""
    return import_table(sorted(PACKAGE.rglob("*.py")))


def test_every_context_of_the_service_has_its_place_in_the_order():
    contexts = {path.parent.name for path in (PACKAGE / "sso").glob("*/__init__.py")}
    assert contexts == set(CONTEXT_ORDER)


def test_no_upward_import_no_face_importing_a_face_no_cycle_between_contexts():
    assert violations(dict(project_table())) == []


@pytest.mark.parametrize("face", FACES[:3])
def test_no_import_cycle_within_a_face(face):
    assert cycles(dict(project_table()), face) == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("sso/accounts/plant.py", "from ...web.auth import users", "the service imports a face"),
        ("sso/kernel/plant.py", "import flask", "the service imports Flask"),
        ("sso/facade_plant.py", "from flask import g", "the service imports Flask"),
        ("api/plant.py", "from ..web import responses", "a face imports another face"),
        ("web/plant.py", "import webapp.api.wire", "a face imports another face"),
        ("scim/plant.py", "from ..api import responses", "a face imports another face"),
        ("scim/plant.py", "from ..web.auth import service", "a face imports another face"),
        ("sso/kernel/plant.py", "from ..accounts import lookup", "contexts import only those before them"),
        ("sso/accounts/plant.py", "from ..email.mail import send", "contexts import only those before them"),
        ("sso/sessions/plant.py", "from .. import facade", "a context imports the top of sso/"),
        ("sso/kernel/plant.py", "from ... import sso", "a context imports the top of sso/"),
    ],
)
def test_the_rules_catch_a_planted_import(module, source, expected):
    path = PACKAGE / module
    table = dict(project_table())
    table[module_name(path)] = list(imported_modules(path, ast.parse(source)))
    assert [v for v in violations(table) if module_name(path) in v and expected in v]


def test_the_cycle_check_catches_a_planted_circle():
    table = dict(project_table())
    table["webapp.web.refusals"] = [*table["webapp.web.refusals"], ("webapp.web.responses", 1)]
    assert ["webapp.web.refusals", "webapp.web.responses", "webapp.web.refusals"] in cycles(table, "webapp.web")
