"""What a worker loads and keeps (issue 14): no migration tooling, no import-time tables, flat memory."""

from __future__ import annotations

import json
import subprocess
import sys

from cryptography.fernet import Fernet

from webapp.api.schemas import SPACE_CODE_POINTS

from ..conftest import ROOT


def test_the_written_out_whitespace_table_is_exactly_what_isspace_accepts_outside_control_chars():
    every = tuple(c for c in range(0x110000) if chr(c).isspace() and not (0 <= c <= 0x1F or 0x7F <= c <= 0x9F))
    assert every == SPACE_CODE_POINTS


def test_a_worker_imports_no_migration_tooling_and_scrypt_leaves_no_heap_behind(tmp_path):
    script = """
import json, sys
import wsgi
from webapp.sso.kernel.hashing import hash_password
def rss():
    return int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0]) / 1024
before = rss()
for _ in range(3):
    hash_password('Quiet-River-4821', 2**14)   # 16 MiB each: glibc would keep the 2nd and 3rd on the heap
print(json.dumps({"modules": sorted(sys.modules), "grew_mib": rss() - before}))
"""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/sso.db",
        "SECRET_KEY": "x",
        "SSO_APPS": "CRM",
        "SSO_FERNET_KEYS": Fernet.generate_key().decode(),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    loaded = {name.split(".")[0] for name in found["modules"]}
    assert not loaded & {"alembic", "mako", "pygments"}, "only `init-db` and the migrations need these"
    # About 12 MiB of word lists and the QR encoder: loaded by the first password set or 2FA enrolment.
    assert not loaded & {"zxcvbn", "segno"}, "a worker that sets no password and draws no QR code needs neither"
    # About 7 MiB (pyOpenSSL and the attestation formats): loaded by the first passkey ceremony.
    assert not loaded & {"webauthn", "OpenSSL", "cbor2"}, "a worker that sees no passkey needs none of these"
    # About 29 MiB (scim2-models, pydantic, lark): loaded by the first SCIM request.
    assert not loaded & {"scim2_models", "pydantic", "pydantic_core", "lark"}, "a worker serving no SCIM needs none"
    assert "sqlalchemy.orm" not in found["modules"], "the tables are Core: the ORM is about 5 MiB per worker"
    assert "sqlalchemy.dialects.postgresql" not in found["modules"], "a SQLite worker needs no PostgreSQL dialect"
    assert found["grew_mib"] < 8, f"scrypt's buffers stayed resident: +{found['grew_mib']:.1f} MiB"
