"""Compiled templates shared by every app of a process.

Jinja compiles a template once per environment, and each Flask app has its own: a process that builds many
apps (the test suite builds hundreds) compiled every page again for each one, about a third of the time of the
console's tests. The compiled code is kept here by the environment's settings (compiled code depends on
autoescaping, syntax, extensions and the filters the optimiser may apply), the template's name and file, and the
source's checksum, so an edited template or an environment set up otherwise is compiled anew. A server process,
with its one app, behaves as before."""

from __future__ import annotations

from collections import ChainMap
from hashlib import sha1
from typing import Any

from flask import Flask
from flask.templating import Environment as FlaskEnvironment
from jinja2 import Environment, Template
from jinja2.bccache import Bucket, BytecodeCache
from jinja2.runtime import Context


def _named(value: Any) -> str:
    """A function by its module and qualified name (the same in every app), anything else by its repr."""
    target = getattr(value, "__func__", value)
    if hasattr(target, "__qualname__"):
        return f"{getattr(target, '__module__', '')}.{target.__qualname__}"
    return repr(value)


def settings_of(environment: Environment) -> str:
    """What in `environment` the compiled code of a template depends on."""
    env = environment
    return repr(
        (
            env.block_start_string,
            env.block_end_string,
            env.variable_start_string,
            env.variable_end_string,
            env.comment_start_string,
            env.comment_end_string,
            env.line_statement_prefix,
            env.line_comment_prefix,
            env.trim_blocks,
            env.lstrip_blocks,
            env.newline_sequence,
            env.keep_trailing_newline,
            env.optimized,
            env.is_async,
            _named(env.autoescape),
            _named(env.finalize),
            sorted(env.extensions),
            sorted((name, _named(function)) for name, function in env.filters.items()),
            sorted((name, _named(function)) for name, function in env.tests.items()),
        )
    )


class CompiledTemplates(BytecodeCache):
    """Jinja's bytecode cache, in this process's memory."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def __len__(self) -> int:
        """How many templates' code is kept."""
        return len(self._code)

    def get_bucket(self, environment: Environment, name: str, filename: str | None, source: str) -> Bucket:
        key = sha1(f"{settings_of(environment)}|{self.get_cache_key(name, filename)}".encode()).hexdigest()
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # ignored (compiled again) when the source's checksum differs

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


SHARED = CompiledTemplates()


class ImportingTemplate(Template):
    """Jinja's template, with `{% import %}` / `{% from ... import %}` made cheap (issue 30).

    Every import asks whether the importing context has globals the imported template lacks. Jinja asks it as
    `ctx.globals_keys - self.globals.keys()`, a set minus the keys of a ChainMap, which Python works out key by
    key through the mapping ABCs: about 20 µs an import, and the console's per-field includes import their
    macros once per field (33 imports on Manage user: a tenth of the page). The same question asked of the
    ChainMap's own mappings is one C call. The answer, and what follows from it, are Jinja's own."""

    def _get_default_module(self, ctx: Context | None = None) -> Any:
        if ctx is not None and not self.environment.is_async:
            own = self.globals
            keys = ctx.globals_keys.difference(*(own.maps if isinstance(own, ChainMap) else (own,)))
            if keys:  # new globals: a module of their own, not cached (as Jinja does)
                return self.make_module({k: ctx.parent[k] for k in keys})
            ctx = None  # none: the cached module
        return super()._get_default_module(ctx)


class ConsoleEnvironment(FlaskEnvironment):
    """Flask's Jinja environment making `ImportingTemplate`s."""

    template_class = ImportingTemplate


def share_compiled_templates(app: Flask) -> None:
    """Before anything makes `app.jinja_env`: its templates come from (and go to) the shared cache, and are
    `ImportingTemplate`s."""
    app.jinja_options = {**app.jinja_options, "bytecode_cache": SHARED}
    app.jinja_environment = ConsoleEnvironment
