"""Templates compiled once per process (webapp/web/compiled_templates.py), and again when their source changes."""

from __future__ import annotations

from flask import Flask, render_template_string

from webapp import create_app
from webapp.web.compiled_templates import SHARED, CompiledTemplates

from ..conftest import app_config


def _app(folder, cache: CompiledTemplates) -> Flask:
    app = Flask(__name__, template_folder=str(folder))
    app.jinja_options = {**app.jinja_options, "bytecode_cache": cache}
    return app


def _refuse_to_compile(app: Flask) -> None:
    def compile_again(*args, **kwargs):
        raise AssertionError("compiled again")

    app.jinja_env.compile = compile_again  # type: ignore[method-assign]


def test_a_second_app_renders_from_the_compiled_code_and_an_edited_template_is_compiled_anew(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("Hello {{ name }}")
    cache = CompiledTemplates()
    first = _app(tmp_path, cache)
    with first.app_context():
        assert first.jinja_env.get_template("page.html").render(name="one") == "Hello one"

    second = _app(tmp_path, cache)
    _refuse_to_compile(second)
    with second.app_context():
        assert second.jinja_env.get_template("page.html").render(name="two") == "Hello two"

    page.write_text("Goodbye {{ name }}")
    third = _app(tmp_path, cache)
    with third.app_context():
        assert third.jinja_env.get_template("page.html").render(name="three") == "Goodbye three"
    fourth = _app(tmp_path, cache)
    _refuse_to_compile(fourth)
    with fourth.app_context():
        assert fourth.jinja_env.get_template("page.html").render(name="four") == "Goodbye four"


def test_the_apps_share_the_process_cache_and_a_template_string_still_renders(db_url):
    app = create_app(app_config(db_url))
    try:
        assert app.jinja_env.bytecode_cache is SHARED
        app.jinja_env.get_template("base.html")
        assert len(SHARED) > 0  # the console's templates went in
        with app.test_request_context():
            assert render_template_string("{{ 1 + 1 }}") == "2"  # not from a file: not cached, compiled as ever
    finally:
        app.extensions["sso_engine"].dispose()
