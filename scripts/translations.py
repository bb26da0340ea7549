"""The translation catalogs: `update` (after changing translatable text), `check` (`make lint`), `compile`
(the bootstrap), `init TAG` (a new language; add TAG to LOCALES in webapp/sso/kernel/texts.py first). See README."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webapp import catalogs


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "update":
        for path in catalogs.update():
            print(f"updated {path.relative_to(catalogs.ROOT)}")
        return 0
    if command == "init" and len(argv) == 2:
        if argv[1] not in catalogs.LOCALES:
            print(f"add {argv[1]!r} to LOCALES in webapp/sso/kernel/texts.py first", file=sys.stderr)
            return 2
        for path in catalogs.update([argv[1]]):
            print(f"wrote {path.relative_to(catalogs.ROOT)}: translate every entry, then run check")
        return 0
    if command == "check":
        found = catalogs.problems()
        for problem in found:
            print(problem, file=sys.stderr)
        if found:
            print(f"translations: {len(found)} problem(s); see README, 'Adding a language'", file=sys.stderr)
            return 1
        return 0
    if command == "compile":
        catalogs.compile_catalogs(force="--force" in argv)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
