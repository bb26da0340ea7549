"""Zato's own surfaces beyond the user record: user and session attributes (SPEC §12) and importing
a Zato SSO database (SPEC §15)."""
