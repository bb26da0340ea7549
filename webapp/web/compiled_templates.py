"""Compiled templates shared by every app of a process.

Jinja compiles a template once per environment, and each Flask app has its own: a process that builds many
apps (the test suite builds hundreds) compiled every page again for each one, about a third of the time of the
console's tests. The compiled code is kept here by template name and source checksum, so an edited template is
compiled anew; a server process, with its one app, behaves as before."""

from __future__ import annotations

from flask import Flask
from jinja2.bccache import Bucket, BytecodeCache


class CompiledTemplates(BytecodeCache):
    """Jinja's bytecode cache, in this process's memory."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def __len__(self) -> int:
        """How many templates' code is kept."""
        return len(self._code)

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
