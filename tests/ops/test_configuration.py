"""The README's configuration table lists exactly the settings the code reads; secrets.env; the version."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

from webapp import __version__
from webapp.config import from_environment

ROOT = Path(__file__).resolve().parents[2]
# Where settings are read: config.py (through `env`), and os.environ anywhere in the app and gunicorn's config.
SOURCES = [ROOT / "gunicorn.conf.py", ROOT / "wsgi.py", *sorted((ROOT / "webapp").rglob("*.py"))]
NAME = re.compile(r"[A-Z][A-Z0-9_]+")


def _is_environ(node: ast.AST) -> bool:
    """`env` (config.py's mapping) or `os.environ` (a WSGI `environ` is no setting)."""
    if isinstance(node, ast.Name):
        return node.id == "env"
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _names(node: ast.AST) -> set[str]:
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            reads_env = (
                (isinstance(func, ast.Attribute) and func.attr in ("get", "pop") and _is_environ(func.value))
                or (isinstance(func, ast.Attribute) and func.attr == "getenv")
                or any(_is_environ(arg) for arg in sub.args)
            )  # helpers such as _int(env, "NAME", 5)
            if isinstance(func, ast.Name) and func.id == "_int" and not any(_is_environ(a) for a in sub.args):
                reads_env = True  # gunicorn.conf.py's _int("PORT", 8000)
            if reads_env:
                found |= {
                    arg.value
                    for arg in sub.args
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and NAME.fullmatch(arg.value)
                }
        elif isinstance(sub, ast.Subscript) and _is_environ(sub.value):
            key = sub.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and NAME.fullmatch(key.value):
                found.add(key.value)
    return found


def settings_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in SOURCES:
        if "migrations" not in path.parts:
            names |= _names(ast.parse(path.read_text(), str(path)))
    return names


def settings_in_the_readme() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration (environment)", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_the_scan_finds_settings_read_in_each_style():
    found = settings_read_by_the_code()
    # env.get(...), _int(env, ...), os.environ.get(...) in the CLI, gunicorn.conf.py's own reads
    assert {"SECRET_KEY", "SSO_SESSION_TTL", "SSO_PASSWORD", "PORT", "WEB_CONCURRENCY"} <= found


def test_every_setting_the_code_reads_is_in_the_readme_table_and_nothing_else():
    code, readme = settings_read_by_the_code(), settings_in_the_readme()
    assert not code - readme, f"read by the code but missing from the README's table: {sorted(code - readme)}"
    assert not readme - code, f"in the README's table but read nowhere: {sorted(readme - code)}"


def test_instance_secrets_env_is_read_and_the_environment_wins(tmp_path, monkeypatch):
    (tmp_path / "secrets.env").write_text(
        "# made by make run\nSECRET_KEY=from-file\nSSO_FERNET_KEYS='k1,k2'\nSSO_SESSION_TTL=60\n"
    )
    monkeypatch.setenv("SSO_SESSION_TTL", "120")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SSO_FERNET_KEYS", raising=False)
    settings = from_environment(str(tmp_path))
    assert settings["SECRET_KEY"] == "from-file"
    assert settings["SSO_FERNET_KEYS"] == ["k1", "k2"]
    assert settings["SSO_SESSION_TTL"] == 120


def test_the_version_is_the_one_in_pyproject_and_the_changelog():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["version"] == __version__
    assert f"## {__version__}" in (ROOT / "CHANGELOG.md").read_text()


def test_gunicorn_moves_what_the_start_made_out_of_the_collectors_sight(tmp_path, monkeypatch):
    """gunicorn.conf.py's pre_fork (the master, with --preload) and post_worker_init (each worker) collect once
    and freeze what is left (issue 30): a full collection no longer walks the app's own objects."""
    import gc
    import runpy

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # the config makes none of its own then
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        for hook, args in (("post_worker_init", (None,)), ("pre_fork", (None, None))):
            gc.unfreeze()
            assert gc.get_freeze_count() == 0
            conf[hook](*args)
            assert gc.get_freeze_count() > 10_000, hook  # the test process's modules, at the least
    finally:
        gc.unfreeze()
