"""The attribute form of My account and Manage user: one package, read in this order.

- `values.py`: one canonical form per attribute value, and how a value travels in a form;
- `parse.py`: what the browser sent, field by field (absent = unchanged, "clear" = NULL);
- `merge.py`: my changes against what someone else saved meanwhile (merge, or a conflict per field);
- `save.py`: send only the changes, merge, stop at real conflicts (`Editor`, `Outcome`, `save`);
- `view.py`: what `fields/_field.html` draws for each field, from a user or from a sent form.
"""

from __future__ import annotations

from .parse import AttributeForm
from .save import Editor, Outcome, save
from .view import FieldView, conflict_message, for_create, views_after, views_for

__all__ = [
    "AttributeForm",
    "Editor",
    "FieldView",
    "Outcome",
    "conflict_message",
    "for_create",
    "save",
    "views_after",
    "views_for",
]
