"""Compiled templates shared by every app of a process.

Jinja compiles a template once per environment, and each Flask app has its own: a process that builds many
apps (the test suite builds hundreds) compiled every page again for each one, about a third of the time of the
console's tests. The compiled code is kept here by the environment's settings (compiled code depends on
autoescaping, syntax, extensions and the filters the optimiser may apply), the template's name and file, and the
source's checksum, so an edited template or an environment set up otherwise is compiled anew. A server process,
with its one app, behaves as before."""

from __future__ import annotations

from hashlib import sha1
from typing import Any

from flask import Flask
from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache


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


def share_compiled_templates(app: Flask) -> None:
    """Before anything makes `app.jinja_env`: its templates come from (and go to) the shared cache."""
    app.jinja_options = {**app.jinja_options, "bytecode_cache": SHARED}
