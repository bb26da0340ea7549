#!/usr/bin/env bash
# Run the service locally (after scripts/bootstrap.sh): it listens on ${HOST:-127.0.0.1}:${PORT:-8000} and is
# opened at http://localhost:${PORT:-8000} (passkeys need a domain name: browsers refuse an IP address as RP ID).
# First run: creates instance/secrets.env, the database, and a first super user
# whose password is printed and kept in instance/first-super-user.txt.
set -euo pipefail

cd "$(dirname "$0")/.."
export HOST="${HOST:-127.0.0.1}"
export PORT="${PORT:-8000}"
export SSO_LOG_FORMAT="${SSO_LOG_FORMAT:-text}"   # a terminal: readable lines (production default is JSON)
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"

[ -x .venv/bin/flask ] || { echo "run-local: .venv missing; run scripts/bootstrap.sh first" >&2; exit 1; }

mkdir -p instance
chmod 700 instance

if [ ! -f instance/secrets.env ]; then
    (
        umask 077
        .venv/bin/python - >instance/secrets.env.tmp <<'EOF'
import secrets
from cryptography.fernet import Fernet
print(f"SECRET_KEY={secrets.token_urlsafe(48)}")
print(f"SSO_FERNET_KEYS={Fernet.generate_key().decode()}")
EOF
        mv instance/secrets.env.tmp instance/secrets.env
    )
    echo "run-local: generated instance/secrets.env"
fi
chmod 600 instance/secrets.env

# create_app reads instance/secrets.env itself (the environment wins), so the flask commands need nothing.

# Self-service by email on one machine: without SSO_SMTP_URL the messages (with their links) go to this log.
export SSO_PUBLIC_URL="${SSO_PUBLIC_URL:-http://localhost:${PORT}}"
export SSO_SIGNUP_APPS="${SSO_SIGNUP_APPS-Console}"
export SSO_SIGNUP_APPROVAL_NEEDED="${SSO_SIGNUP_APPROVAL_NEEDED:-0}"

.venv/bin/flask --app webapp init-db

if [ ! -f instance/first-super-user.txt ]; then
    SSO_PASSWORD="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(18))')"
    SSO_PASSWORD="$SSO_PASSWORD" .venv/bin/flask --app webapp sso create-super-user admin
    (
        umask 077
        printf 'username=admin\npassword=%s\n' "$SSO_PASSWORD" >instance/first-super-user.txt
    )
    chmod 600 instance/first-super-user.txt
fi
ADMIN_PASSWORD="$(sed -n 's/^password=//p' instance/first-super-user.txt)"
echo
echo "=================================================================="
echo " Log in at ${SSO_PUBLIC_URL}/login as admin / ${ADMIN_PASSWORD}"
echo " (also in instance/first-super-user.txt)"
if [ -z "${SSO_SMTP_URL:-}" ]; then
echo " No SSO_SMTP_URL: sign-up and password-reset emails are printed"
echo " below (by the outbox worker), with their links, instead of being sent."
fi
echo "=================================================================="
echo

# The outbox's worker delivers every email (issue 27) beside gunicorn (gunicorn.conf.py, read from this directory,
# takes HOST, PORT and WEB_CONCURRENCY from the environment). One ending ends the other; Ctrl-C or a TERM to this
# script ends both. (Background jobs of a script ignore SIGINT, hence the traps forwarding it as TERM.)
.venv/bin/flask --app webapp sso worker &
WORKER_PID=$!
.venv/bin/gunicorn wsgi:app &
WEB_PID=$!
stop_both() {
    trap - INT TERM
    kill -TERM "$WEB_PID" "$WORKER_PID" 2>/dev/null || true
    wait "$WEB_PID" 2>/dev/null || true
    wait "$WORKER_PID" 2>/dev/null || true
}
trap 'stop_both; exit 130' INT
trap 'stop_both; exit 143' TERM
status=0
wait -n "$WEB_PID" "$WORKER_PID" || status=$?
echo "run-local: $( kill -0 "$WEB_PID" 2>/dev/null && echo "the outbox worker" || echo "gunicorn") stopped; stopping the other" >&2
stop_both
exit "$status"
