"""Saving an attribute form: send only the changes, merge with others' saves, stop at real conflicts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...i18n import gettext
from ...sso import Kind, SSOError
from ...sso.kernel.presentation import UserData
from ..field_table import check
from ..refusals import form_errors, form_status
from .merge import plan_merge
from .parse import AttributeForm

MAX_ROUNDS = 3


@dataclass
class Outcome:
    """How a save ended. `status` is the HTTP status of a re-render (200 when saved or nothing to do)."""

    saved: list[str] = field(default_factory=list)  # attributes written
    merged_with: list[str] = field(default_factory=list)  # others' changes kept alongside
    errors: dict[str, str] = field(default_factory=dict)  # field → message (nothing written)
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field → (mine, theirs)
    status: int = 200
    current: UserData | None = None  # the user as stored, for a re-render
    sent: dict[str, Any] = field(default_factory=dict)  # what the person changed
    retired: list[str] = field(default_factory=list)  # labels of retired fields the person changed (not saved)


@dataclass
class Editor:
    """One user's attribute form: which fields, how to read the user, how to write a change."""

    names: tuple[str, ...]
    context: str
    load: Callable[[], UserData]
    write: Callable[..., UserData]  # (changes, version, unchanged=None)


def save(editor: Editor, form: AttributeForm) -> Outcome:
    """Send what the person changed; if the user moved on meanwhile, merge or report conflicts.

    Raises SSOError for refusals that are not about the form's values (session, permissions).
    """
    problems = form.problems()
    if problems:  # reported with every other changed value's problem, all at once
        return Outcome(errors=_with_value_problems(editor, form, problems), status=422)
    # A form rendered by us carries its version and every original: the changes are known without
    # reading the user, and the conditional write tells us if anyone saved meanwhile. Otherwise
    # (a hand-made POST) compare with what is stored now.
    complete = form.version is not None and form.has_all_originals()
    current = None if complete else editor.load()
    originals = form.originals(current)
    changes = form.changes(originals)
    if not changes:
        return Outcome(current=current)
    if form.version is not None:
        version = form.version
    else:
        assert current is not None, "a form without its version is not complete: the user was loaded"
        version = current.version
    outcome = Outcome(sent=dict(changes), current=current)
    for _round in range(MAX_ROUNDS):
        if current is not None and current.version != version:
            plan = plan_merge(changes, originals, current, editor.names)
            outcome.current = current
            if plan.conflicts:
                outcome.conflicts, outcome.status = plan.conflicts, 409
                return outcome
            outcome.merged_with = plan.changed_by_others
            changes, version = plan.changes, current.version
            if not changes:
                return outcome
        try:
            if current is None:
                outcome.current = editor.write(changes, version)
            else:
                # After a lost race: written under the row lock as long as the fields I change still hold
                # what I merged against, so saves of different fields never exhaust the rounds.
                outcome.current = editor.write(changes, version, {name: current[name] for name in changes})
        except SSOError as error:
            if error.kind != Kind.precondition:
                errors = form_errors(error, (*editor.names, "data"))
                if errors is None:
                    raise
                outcome.errors, outcome.status = errors, form_status(error)
                return outcome
            current = editor.load()
            continue
        outcome.saved = list(changes)
        return outcome
    outcome.errors, outcome.status = {"version": gettext("this user kept changing while you saved; try again")}, 409
    return outcome


def _with_value_problems(editor: Editor, form: AttributeForm, problems: dict[str, str]) -> dict[str, str]:
    """`problems` (inputs that could not be read) and the value rule's message for every other field the
    person changed, in form order: nothing is written, but nothing is held back for the next try either."""
    if "version" in problems:
        return problems
    complete = form.version is not None and form.has_all_originals()
    originals = form.originals(None if complete else editor.load())
    changes = form.changes(originals)
    errors = {}
    for name in editor.names:
        if name in problems:
            errors[name] = problems[name]
        elif name in changes:
            _, message = check(name, changes[name])
            if message:
                errors[name] = message
    return errors
