"""A message with a singular and a plural form, chosen by a number: Flask-Babel's `ngettext` signature
(`%(num)d` is the number, other `%(name)s` come as keywords), so that a sentence agrees with its number
("1 open session ends", "2 open sessions end") and is written once, as one message, for translation."""

from __future__ import annotations

from typing import Any


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """`singular` when `num` is 1, else `plural`, with `num` and `variables` put in."""
    return (singular if num == 1 else plural) % {"num": num, **variables}
