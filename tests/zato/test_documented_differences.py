"""docs/ZATO.md lists every deliberate difference a Zato client can meet (issue 31 #8, #12): the behaviour
itself is tested where it lives (named below); here, that the page tells Zato's clients about it."""

from __future__ import annotations

from pathlib import Path

import pytest

ZATO_MD = Path(__file__).resolve().parents[2] / "docs" / "ZATO.md"


def differences() -> list[str]:
    """The rows of the "Differences, and why" table, lower-cased."""
    text = ZATO_MD.read_text(encoding="utf-8")
    table = text.split("## Differences, and why", 1)[1].split("\n## ", 1)[0]
    return [line.lower() for line in table.splitlines() if line.startswith("| ") and "---" not in line]


@pytest.mark.parametrize(
    ("words", "tested_by"),
    [
        # tests/core/test_totp.py::test_a_right_code_logs_in_once_and_a_replay_is_refused
        (("totp code", "already used", "refused"), "replay"),
        # tests/core/test_password_reset.py::test_the_emailed_link_gives_a_reset_key_that_sets_the_new_password_...
        (("password reset", "sessions", "ended"), "reset"),
        # tests/core/test_user_attrs.py::test_an_encrypted_attribute_stays_encrypted_unless_a_write_says_...
        (("encrypted attribute", "without `encrypt`", "keeps it encrypted"), "encrypted attribute"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_zato_md_lists_the_difference(words, tested_by):
    rows = [row for row in differences() if all(word in row for word in words)]
    assert len(rows) == 1, f"docs/ZATO.md has no difference row about {tested_by}: {words}"
