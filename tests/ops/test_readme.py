"""The README, followed as written on a fresh clone: `make run` up to its first page, the curl
walk-through, the Python snippet and the command-line lines (on a free port instead of 8000)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from ..server import TEST_SCRYPT_N, free_port

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- readme-test: (\w+) -->\n```\w*\n(.*?)```", re.DOTALL)
# A clean shell: none of the settings a developer or the test run may have exported; only the low scrypt cost
# of the whole suite (the hashing itself is tested in tests/core/test_hashing.py).
CLEAN_ENV = {
    **{
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SSO_", "PROMETHEUS_"))
        and name not in ("DATABASE_URL", "SECRET_KEY", "HOST", "PORT", "WEB_CONCURRENCY", "FLASK_APP")
    },
    "SSO_SCRYPT_N": str(TEST_SCRYPT_N),
}


def readme_blocks() -> dict[str, str]:
    return dict(BLOCK.findall((ROOT / "README.md").read_text()))


def shell(script: str, cwd: Path, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    # A new session has no controlling terminal, so a hidden prompt reads the given stdin.
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=CLEAN_ENV,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
    )


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """`git clone` of this repository, sharing the checkout's .venv and node_modules (as the worktrees
    do) so that bootstrap has nothing to download; everything else comes from the clone."""
    target = tmp_path_factory.mktemp("readme") / "sso"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True, timeout=120)
    for shared in (".venv", "node_modules"):
        (target / shared).symlink_to((ROOT / shared).resolve())
    # The venv is shared with other checkouts: install under the lock they use; then make run finds it done.
    done = subprocess.run(
        ["flock", "/tmp/pip.lock", "make", "-s", "bootstrap"],
        cwd=target,
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return target


@pytest.fixture(scope="module")
def running(clone):
    """`make run` (the README's run command) on a free port, until its first page is served."""
    port = free_port()
    [run_line] = [line for line in readme_blocks()["run"].splitlines() if line.startswith("make run")]
    command = run_line.split("#")[0].strip()
    log = (clone / "make-run.log").open("w")
    process = subprocess.Popen(
        ["bash", "-c", command],
        cwd=clone,
        env={**CLEAN_ENV, "PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (clone / "make-run.log").read_text()
            assert time.monotonic() < deadline, "make run served nothing in 120 s"
            try:
                first = requests.get(base + "/login", timeout=30)
                break
            except requests.RequestException:
                time.sleep(0.3)
        assert first.status_code == 200 and 'id="login-form"' in first.text
        yield clone, port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.close()


def test_the_readme_works_as_written_on_a_fresh_clone(running):
    clone, port = running
    blocks = readme_blocks()
    assert set(blocks) == {"run", "curl", "python", "cli"}
    output = (clone / "make-run.log").read_text()
    # the address people open is a name: browsers refuse passkeys on an IP address (SPEC §18)
    assert "Log in at http://localhost:" in output and (clone / "instance" / "secrets.env").exists()
    assert "postgresql" not in output.lower()  # make run installs and starts no database server
    assert (clone / "static" / "vendor" / "htmx.min.js").exists()

    curl = shell(blocks["curl"].replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}"), clone)
    assert curl.returncode == 0, curl.stderr
    assert '"display_name": "Jane D."' in curl.stdout and '"first_name": null' in curl.stdout
    assert re.search(r"(?im)^etag: ", curl.stdout), curl.stdout

    python = subprocess.run(
        [".venv/bin/python", "-c", blocks["python"]],
        cwd=clone,
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert python.returncode == 0, python.stderr
    assert python.stdout.strip() == "True"

    cli = shell(blocks["cli"], clone, stdin="Tall-Harbour-58\nTall-Harbour-58\n")
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "Database schema is up to date." in cli.stdout
    assert "Created super-user carol" in cli.stdout and "Created user bob" in cli.stdout
    assert "Tall-Harbour-58" not in cli.stdout + cli.stderr
    assert "expired sessions:" in cli.stdout and "audit records: 0 removed" in cli.stdout
    exported = (clone / "audit.csv").read_text().splitlines()
    assert exported[0].startswith("id,time,cid,action")
    assert any(",update," in line and "Jane" in line for line in exported)

    # The server read the same instance/secrets.env: carol, made on the command line, can log in to it.
    login = requests.post(
        f"http://127.0.0.1:{port}/zato/sso/user/login",
        timeout=30,
        data='{"username": "carol", "password": "Tall-Harbour-58", "current_app": "CRM"}',
    )
    assert login.json()["status"] == "ok", login.text
