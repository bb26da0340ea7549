#!/usr/bin/env bash
# Install everything the project needs on a Debian 12 machine (run as root).
#
#   scripts/bootstrap.sh            runtime only: .venv (requirements.txt), npm assets into static/vendor
#   scripts/bootstrap.sh --test     + PostgreSQL server binaries, chromium, the test requirements
#   scripts/bootstrap.sh --bench    + PostgreSQL, wrk and the test/bench requirements
#
# Idempotent and quiet; a second run with nothing to do takes about a second
# (stamp files keyed by a hash of the requirement files).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$(pwd)"

WANT_TEST=0
WANT_BENCH=0
for arg in "$@"; do
    case "$arg" in
        --test) WANT_TEST=1 ;;
        --bench) WANT_BENCH=1 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "bootstrap: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
# Playwright drives Debian's /usr/bin/chromium: never download a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

LOG="$(mktemp -t bootstrap.XXXXXX.log)"
trap 'rm -f "$LOG"' EXIT

say() { echo "bootstrap: $*"; }
die() { echo "bootstrap: ERROR: $*" >&2; exit 1; }

# run "description" cmd args...: run quietly; on failure show the output and stop.
run() {
    local what="$1"; shift
    if ! "$@" >"$LOG" 2>&1; then
        echo "bootstrap: ERROR: $what failed: $*" >&2
        echo "----- output -----" >&2
        tail -n 60 "$LOG" >&2
        echo "------------------" >&2
        exit 1
    fi
}

hash_files() { cat "$@" | sha256sum | cut -d' ' -f1; }

# ---------------------------------------------------------------- system packages
apt_pkgs=()
WANT_PG=0
if [ "$WANT_TEST" = 1 ] || [ "$WANT_BENCH" = 1 ]; then WANT_PG=1; fi
# Running the service needs no database server (SQLite by default); the tests start their own PostgreSQL.
if [ "$WANT_PG" = 1 ] && ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
    apt_pkgs+=(postgresql)
fi
if [ "$WANT_TEST" = 1 ] && [ ! -x /usr/bin/chromium ]; then
    apt_pkgs+=(chromium fonts-liberation fonts-dejavu-core)
fi
if [ "$WANT_BENCH" = 1 ] && ! command -v wrk >/dev/null; then
    apt_pkgs+=(wrk)
fi
PY=""
if command -v python3.11 >/dev/null; then PY=python3.11; elif command -v python3 >/dev/null; then PY=python3; fi
if [ ! -x .venv/bin/python ]; then
    if [ -z "$PY" ]; then
        apt_pkgs+=(python3 python3-venv)
    elif ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        apt_pkgs+=(python3-venv)
    fi
fi
if ! command -v npm >/dev/null; then
    apt_pkgs+=(nodejs npm)
fi

if [ "${#apt_pkgs[@]}" -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing system packages (${apt_pkgs[*]}); run as root or install them: apt-get install ${apt_pkgs[*]}"
    say "installing system packages: ${apt_pkgs[*]}"
    run "apt-get update" apt-get update -q
    run "apt-get install" apt-get install -y -q --no-install-recommends "${apt_pkgs[@]}"
    [ -n "$PY" ] || PY=python3
fi

# ---------------------------------------------------------------- Python venv
if [ ! -x .venv/bin/python ]; then
    "$PY" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' \
        || die "$PY is $("$PY" --version 2>&1); Python >= 3.11 is required"
    say "creating .venv with $("$PY" --version 2>&1)"
    run "creating .venv" "$PY" -m venv .venv
fi

if [ "$WANT_TEST" = 1 ] || [ "$WANT_BENCH" = 1 ]; then
    REQ=requirements-dev.txt
else
    REQ=requirements.txt
fi
PYVER="$(.venv/bin/python -c 'import sys; print(sys.version)')"
want_stamp="$(hash_files requirements.txt "$REQ"; echo "$PYVER")"
stamp_file=".venv/.bootstrap-$REQ.stamp"
if [ ! -f "$stamp_file" ] || [ "$(cat "$stamp_file")" != "$want_stamp" ]; then
    say "pip install -r $REQ"
    run "pip install -r $REQ" .venv/bin/python -m pip install -q -r "$REQ"
    printf '%s\n' "$want_stamp" >"$stamp_file"
    if [ "$REQ" = requirements-dev.txt ]; then
        # The dev set includes the runtime set.
        printf '%s\n' "$(hash_files requirements.txt requirements.txt; echo "$PYVER")" \
            >.venv/.bootstrap-requirements.txt.stamp
    fi
fi

# ---------------------------------------------------------------- translations
# The catalogs (.po) are in the repository; the compiled .mo files are made here, when a .po is newer.
run "compiling the translations" .venv/bin/python scripts/translations.py compile

# ---------------------------------------------------------------- npm assets
npm_stamp="$(hash_files package.json package-lock.json; node --version)"
if [ ! -f node_modules/.bootstrap.stamp ] || [ "$(cat node_modules/.bootstrap.stamp)" != "$npm_stamp" ]; then
    say "npm ci"
    run "npm ci" npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    printf '%s\n' "$npm_stamp" >node_modules/.bootstrap.stamp
fi

# vendor SOURCE DEST: copy an npm file into static/vendor when it differs.
vendor() {
    local src="node_modules/$1" dst="static/vendor/$2"
    [ -f "$src" ] || die "$src not found after npm ci"
    if ! cmp -s "$src" "$dst" 2>/dev/null; then
        mkdir -p "$(dirname "$dst")"
        cp "$src" "$dst"
        say "copied $src -> $dst"
    fi
}
vendor htmx.org/dist/htmx.min.js htmx.min.js
vendor swagger-ui-dist/swagger-ui-bundle.js swagger-ui/swagger-ui-bundle.js
vendor swagger-ui-dist/swagger-ui.css swagger-ui/swagger-ui.css
vendor swagger-ui-dist/LICENSE swagger-ui/LICENSE

# ---------------------------------------------------------------- sanity
if [ "$WANT_TEST" = 1 ]; then
    [ -x /usr/bin/chromium ] || die "/usr/bin/chromium missing after install"
fi
if [ "$WANT_BENCH" = 1 ]; then
    command -v wrk >/dev/null || die "wrk missing after install"
fi
if [ "$WANT_PG" = 1 ]; then
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || die "PostgreSQL server binaries missing after install"
fi
