"""The benchmark's gunicorn entry point: the real app, plus one bare-UPDATE reference route.

`POST /bench/reference?user_id=<id>` sets that user's display name (and its search column) to the
request body in one UPDATE, through the app's own engine and write transaction, with no session
check, no read and no audit record: the floor that the real update paths are measured against.
Every target of a run is served by this same module, so the process setup is identical.
"""

from __future__ import annotations

from flask import request
from sqlalchemy import update

from webapp import create_app
from webapp.db import writing
from webapp.sso.kernel.tables import users

app = create_app()


@app.post("/bench/reference")
def bench_reference():
    """One UPDATE of sso_user; answers a small JSON body like the API does."""
    value = request.get_data(as_text=True)[:256] or "reference"
    with writing(app.extensions["sso_engine"]) as conn:
        result = conn.execute(
            update(users)
            .where(users.c.user_id == request.args.get("user_id", ""))
            .values(display_name=value, display_name_search=value.casefold())
        )
    return {"status": "ok", "updated": result.rowcount}


# The web console may protect every POST app-wide with Flask-WTF's CSRFProtect; the reference
# is a machine endpoint, as the JSON API is.
if "csrf" in app.extensions:
    app.extensions["csrf"].exempt(bench_reference)
