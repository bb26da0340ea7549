"""Templates compiled once per process (webapp/web/compiled_templates.py), and again when their source changes."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, render_template_string
from jinja2 import Environment, FileSystemLoader

from webapp import create_app
from webapp.web.compiled_templates import SHARED, CompiledTemplates

from ..conftest import app_config


def _render_in_a_new_app(folder, cache: CompiledTemplates, name: str, *, may_compile: bool) -> str:
    """page.html rendered by a new app on `folder` and `cache`; unless `may_compile`, compiling fails the test."""
    app = Flask(__name__, template_folder=str(folder))
    app.jinja_options = {**app.jinja_options, "bytecode_cache": cache}
    if not may_compile:

        def compile_again(*args, **kwargs):
            raise AssertionError("compiled again")

        app.jinja_env.compile = compile_again  # type: ignore[method-assign]
    with app.app_context():
        return app.jinja_env.get_template("page.html").render(name=name)


def test_a_second_app_renders_from_the_compiled_code_and_an_edited_template_is_compiled_anew(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("Hello {{ name }}")
    cache = CompiledTemplates()
    assert _render_in_a_new_app(tmp_path, cache, "one", may_compile=True) == "Hello one"
    assert _render_in_a_new_app(tmp_path, cache, "two", may_compile=False) == "Hello two"
    page.write_text("Goodbye {{ name }}")
    assert _render_in_a_new_app(tmp_path, cache, "three", may_compile=True) == "Goodbye three"
    assert _render_in_a_new_app(tmp_path, cache, "four", may_compile=False) == "Goodbye four"


def test_an_environment_set_up_otherwise_compiles_its_own(tmp_path):
    (tmp_path / "page.html").write_text("{{ '<b>' | shout }}")
    cache = CompiledTemplates()

    def environment(autoescape: bool, shout) -> Environment:
        made = Environment(loader=FileSystemLoader(tmp_path), autoescape=autoescape, bytecode_cache=cache)
        made.filters["shout"] = shout
        return made

    def upper(value):
        return value.upper()

    def exclaim(value):
        return value + "!"

    assert environment(True, upper).get_template("page.html").render() == "&lt;B&gt;"
    assert environment(False, upper).get_template("page.html").render() == "<B>"
    assert environment(False, exclaim).get_template("page.html").render() == "<b>!"
    assert len(cache) == 3


def test_the_apps_share_the_process_cache_and_a_template_string_is_not_kept(db_url):
    app = create_app(app_config(db_url))
    try:
        env = app.jinja_env
        assert env.bytecode_cache is SHARED
        filename = env.get_template("base.html").filename
        assert filename is not None
        bucket = SHARED.get_bucket(env, "base.html", filename, Path(filename).read_text())
        assert bucket.code is not None  # the console's base page went in
        kept = len(SHARED)
        with app.test_request_context():
            assert render_template_string("{{ 1 + 1 }}") == "2"
        assert len(SHARED) == kept  # not from a file: compiled as ever, not kept
    finally:
        app.extensions["sso_engine"].dispose()


def test_an_import_answers_as_jinjas_own_and_its_module_is_made_once(tmp_path):
    """ImportingTemplate (issue 30) answers an import as Jinja does: the cached module when the importing
    template brings no globals of its own, a module of their own (with them) when it does."""
    from webapp.web.compiled_templates import ConsoleEnvironment, ImportingTemplate

    (tmp_path / "macros.html").write_text("{% macro hi(x) %}hi {{ x }} {{ extra | default('-') }}{% endmacro %}")
    (tmp_path / "page.html").write_text('{% from "macros.html" import hi %}{{ hi(name) }}')
    app = Flask(__name__, template_folder=str(tmp_path))
    app.jinja_environment = ConsoleEnvironment
    env = app.jinja_env
    macros = env.get_template("macros.html")
    assert isinstance(macros, ImportingTemplate)
    made = []
    make_module = macros.make_module

    def counted(*args, **kwargs):
        made.append(args)
        return make_module(*args, **kwargs)

    macros.make_module = counted  # type: ignore[method-assign]
    with app.app_context():
        page = env.get_template("page.html")
        assert [page.render(name=n) for n in ("a", "b", "c")] == ["hi a -", "hi b -", "hi c -"]
        assert len(made) == 1  # made once, then the cached module
        with_extra = env.get_template("page.html", globals={"extra": "+"})
        assert with_extra.render(name="d") == "hi d +"  # the importing template's own global reaches the macro
        assert with_extra.render(name="e") == "hi e +"
    assert len(made) == 3 and made[1][0] == {"extra": "+"}  # one module each time, with the new global
