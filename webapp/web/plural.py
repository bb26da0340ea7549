"""`ngettext`, for the modules that import it from here: Flask-Babel's (`webapp.i18n`), which picks the plural
form of the request's language (Polish has three). `%(num)d` is the number, other `%(name)s` come as keywords."""

from __future__ import annotations

from ..i18n import ngettext

__all__ = ["ngettext"]
