"""Manage users (super-users): `list` (search, filter, sort, page), `create`, `edit` (one user's form,
recent changes, sessions, the history download), `actions` (quick actions, set a password), `lifecycle`
(the confirmation before lock / reject / delete, delete, sign out everywhere), `bulk` (the list's
"Apply to selected") and `emails` (an administrator's emails to the user). `choices` holds what those actions
are and say, as data.

The modules are imported for their routes, which register on the console's one blueprint (`web.*`
endpoint names)."""

from __future__ import annotations

from . import actions, bulk, create, edit, emails, lifecycle, list  # noqa: F401
