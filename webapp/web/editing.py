"""Saving an attribute form: send only the changes, merge with others' saves, stop at real conflicts."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..sso import Kind, SSOError
from ..sso.presentation import UserData
from . import fields as fv
from .forms import MISSING, AttributeForm
from .merge import canonical, plan_merge

MAX_ROUNDS = 3


@dataclass
class Outcome:
    """How a save ended. `status` is the HTTP status of a re-render (200 when saved or nothing to do)."""

    saved: list[str] = field(default_factory=list)           # attributes written
    merged_with: list[str] = field(default_factory=list)     # others' changes kept alongside
    errors: dict[str, str] = field(default_factory=dict)     # field → message (nothing written)
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field → (mine, theirs)
    status: int = 200
    current: UserData | None = None                          # the user as stored, for a re-render
    sent: dict[str, Any] = field(default_factory=dict)       # what the person changed

    @property
    def nothing_to_do(self) -> bool:
        return self.status == 200 and not self.saved


@dataclass
class Editor:
    """One user's attribute form: which fields, how to read the user, how to write a change."""

    names: tuple[str, ...]
    context: str
    load: Callable[[], UserData]
    write: Callable[[dict[str, Any], int], UserData]


def error_status(error: SSOError) -> int:
    """The status a form re-render answers for a refused save."""
    return {Kind.forbidden: 403, Kind.not_found: 404}.get(error.kind, 422)


def save(editor: Editor, form: AttributeForm) -> Outcome:
    """Send what the person changed; if the user moved on meanwhile, merge or report conflicts.

    Raises SSOError for refusals that are not about the form's values (session, permissions).
    """
    problems = form.problems()
    if problems:
        return Outcome(errors=problems, status=422)
    # A form rendered by us carries its version and every original: the changes are known without
    # reading the user, and the conditional write tells us if anyone saved meanwhile. Otherwise
    # (a hand-made POST) compare with what is stored now.
    complete = form.version is not None and form.has_all_originals()
    current = None if complete else editor.load()
    originals = form.originals(current)
    changes = form.changes(originals)
    if not changes:
        return Outcome(current=current)
    version = form.version if form.version is not None else current.version
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
            outcome.current = editor.write(changes, version)
        except SSOError as error:
            if error.kind != Kind.precondition:
                if error.kind in (Kind.invalid, Kind.conflict, Kind.malformed, Kind.forbidden, Kind.not_found) \
                        and error.errors and set(error.errors) <= set(editor.names) | {"data"}:
                    outcome.errors, outcome.status = dict(error.errors), error_status(error)
                    return outcome
                raise
            current = editor.load()
            continue
        outcome.saved = list(changes)
        return outcome
    outcome.errors, outcome.status = {"version": "this user kept changing while you saved; try again"}, 409
    return outcome


def views_for(editor: Editor, user: UserData) -> list[fv.FieldView]:
    """Fields showing what is stored."""
    return [fv.from_user(name, editor.context, user) for name in editor.names]


def views_after(editor: Editor, form: AttributeForm, outcome: Outcome) -> tuple[list[fv.FieldView], int | None]:
    """Fields after a refused save, and the version the form should carry.

    After a conflict the form is rebased on what is stored now: each field's original becomes the
    current value, fields the person did not change show the current value, and every conflicting
    field asks "keep yours / take theirs". After any other error the form keeps its originals.
    """
    current = outcome.current
    views: list[fv.FieldView] = []
    if outcome.conflicts and current is not None:
        for name in editor.names:
            item = form.fields[name]
            theirs = canonical(item.attr, current[name])
            if name in outcome.sent or name in outcome.conflicts:
                view = fv.from_input(item, editor.context, theirs)
                if name in outcome.conflicts:
                    mine, _ = outcome.conflicts[name]
                    view.conflict_mine, view.conflict_theirs = canonical(item.attr, mine), theirs
                    view.resolve = None
                view.error = None
            else:
                view = fv.from_user(name, editor.context, current)
            views.append(view)
        return views, current.version
    for name in editor.names:
        item = form.fields[name]
        if item.original is not MISSING:
            original = item.original
        elif current is not None:
            original = canonical(item.attr, current[name])
        else:
            original = MISSING
        views.append(fv.from_input(item, editor.context, original, outcome.errors.get(name)))
    return views, form.version
