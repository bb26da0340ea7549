"""Terms (SPEC §19): published versions, written in Markdown and rendered to sanitised HTML, and who accepted
which version, when and from where.

Publishing a version that requires acceptance gives every active user the `accept_terms` action by INSERT …
SELECT (`required_actions.add_for_all`) in batches of 20,000 users a transaction (`in_batches`): a million
users cost fifty statements on the database, each well inside the deadline, not a million calls; an audit
record says how many users were asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select
from sqlalchemy.exc import IntegrityError

from ...db import reading, writing
from ..kernel.attributes import REMOTE_ADDR_MAX, safe_text
from ..kernel.audit import change, record
from ..kernel.call import Call
from ..kernel.caller import authenticate, pending_actions
from ..kernel.context import Context
from ..kernel.errors import Code, FieldErrors, Kind, SSOError, no_such_user
from ..kernel.permissions import POLICIES_MANAGE, USERS_VIEW, require, require_over
from ..kernel.required_actions import ACCEPT_TERMS, add_for_all, clear_stored, in_batches
from ..kernel.required_actions import KEY as ACTIONS_KEY
from ..kernel.rows import load_user
from ..kernel.tables import terms_acceptances, terms_versions, users
from ..kernel.texts import _t, at_most_characters

TERMS_MAX = 100_000  # characters of Markdown
VERSION_MAX = 2**31 - 1  # a version number fits every database's integer


def _is_version(value: Any) -> bool:
    return type(value) is int and 1 <= value <= VERSION_MAX


# What a terms text may use: Markdown's own output, nothing that runs or loads anything.
ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}
URL_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class TermsVersion:
    """One published version of the terms."""

    version: int
    text: str
    html: str
    published_time: datetime
    published_by: str | None
    requires_acceptance: bool
    users_asked: int = 0  # at publishing: how many users gained the accept_terms action


@dataclass(frozen=True)
class Acceptance:
    """A user's acceptance of one version."""

    version: int
    time: datetime
    remote_addr: str | None


def render(text: str) -> str:
    """Markdown → HTML a browser can show safely: markdown-it-py (CommonMark, tables, strikethrough; raw HTML
    in the text is escaped, not passed on), then nh3 (Ammonia) keeps only the tags, attributes and URL
    schemes above, so no script, event handler or `javascript:` link survives."""
    import nh3
    from markdown_it import MarkdownIt  # imported when terms are published, not in every worker

    html = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"]).render(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def _check(text: Any, require_acceptance: Any) -> tuple[str, bool]:
    errors = FieldErrors()
    if not isinstance(text, str):
        errors.add("text", _t("must be a string"))
    elif not text.strip():
        errors.add("text", _t("may not be empty"))
    elif len(text) > TERMS_MAX:
        errors.add("text", at_most_characters(TERMS_MAX))
    elif any(ord(char) < 32 and char not in "\n\r\t" for char in text) or any(
        "\ud800" <= char <= "\udfff" for char in text
    ):
        errors.add("text", _t("must not contain control characters"))
    if type(require_acceptance) is not bool:
        errors.add("require_acceptance", _t("must be true or false"))
    errors.raise_if_any(Kind.invalid)
    return text, require_acceptance


def _version(row: Any, asked: int = 0) -> TermsVersion:
    return TermsVersion(
        row["version"],
        row["text"],
        row["html"],
        row["published_time"],
        row["published_by"],
        bool(row["requires_acceptance"]),
        asked,
    )


def publish_terms(ctx: Context, call: Call, text: Any, require_acceptance: Any = False) -> TermsVersion:
    """Publish a new version of the terms (`policies.manage`), audited; with `require_acceptance`, every active
    user who has not accepted it gets the `accept_terms` action, set-based in batches of `BATCH` users a
    transaction (each well inside the database deadline, however many users), then one more audit record
    says how many were asked. The version is current from the first transaction: someone who accepts it
    before their batch is not asked again, and a user created meanwhile is asked at creation."""
    text, require_acceptance = _check(text, require_acceptance)
    html = render(text)
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        require(caller, POLICIES_MANAGE)
        key = conn.execute(
            insert(terms_versions).values(
                text=text,
                html=html,
                published_time=now,
                published_by=caller.user_id,
                requires_acceptance=require_acceptance,
            )
        ).inserted_primary_key
        assert key is not None, "an INSERT of one row has its key"
        version = key[0]
        record(
            conn,
            now=now,
            **call.audit(),
            action="terms_publish",
            actor_id=caller.user_id,
            target_id=f"terms:{version}",
            changes={"version": change(None, version), "require_acceptance": change(None, require_acceptance)},
        )
        row = conn.execute(select(terms_versions).where(terms_versions.c.version == version)).mappings().one()
    if not require_acceptance:
        return _version(row)
    accepted = (
        select(terms_acceptances.c.id)
        .where(terms_acceptances.c.user_id == users.c.user_id, terms_acceptances.c.version == version)
        .exists()
    )
    asked = in_batches(
        ctx.engine,
        and_(users.c.is_active.is_(True), ~accepted),
        lambda conn, clause: add_for_all(conn, ACCEPT_TERMS, clause, now),
    )
    with writing(ctx.engine) as conn:
        record(
            conn,
            now=ctx.clock(),
            **call.audit(),
            action="terms_asked",
            actor_id=caller.user_id,
            target_id=f"terms:{version}",
            changes={"users_asked": change(None, asked)},
        )
    return _version(row, asked)


def _current(conn: Connection) -> Any:
    return conn.execute(select(terms_versions).order_by(terms_versions.c.version.desc()).limit(1)).mappings().first()


def current_terms(ctx: Context, call: Call, version: Any = None) -> TermsVersion | None:
    """The newest version of the terms (None before any was published), or the one numbered `version` (404
    E008002 naming it when there is none); anyone signed in, also while they still have to accept it."""
    if version is not None and not _is_version(version):
        raise SSOError.single(Kind.invalid, Code.invalid_input, "version", _t("must be a whole number"))
    with reading(ctx.engine) as conn:
        authenticate(ctx, conn, call, completes=(ACCEPT_TERMS,))
        if version is None:
            row = _current(conn)
        else:
            row = conn.execute(select(terms_versions).where(terms_versions.c.version == version)).mappings().first()
            if row is None:
                raise SSOError.single(Kind.not_found, Code.invalid_input, "version", _t("no such version"))
    return None if row is None else _version(row)


def list_terms(ctx: Context, call: Call) -> list[tuple[TermsVersion, int]]:
    """Every version, newest first, each with how many users accepted it (`policies.manage`)."""
    with reading(ctx.engine) as conn:
        require(authenticate(ctx, conn, call), POLICIES_MANAGE)
        accepted = (
            select(func.count())
            .where(terms_acceptances.c.version == terms_versions.c.version)
            .scalar_subquery()
            .label("accepted")
        )
        rows = conn.execute(select(terms_versions, accepted).order_by(terms_versions.c.version.desc())).mappings()
        return [(_version(row), row["accepted"]) for row in rows]


def accept_terms(ctx: Context, call: Call, version: Any) -> bool:
    """Accept `version`, which must be the current one (E008002 naming `version` otherwise); records who,
    when and from where, and clears `accept_terms`. Returns False when it was accepted already."""
    if not _is_version(version):
        raise SSOError.single(Kind.invalid, Code.invalid_input, "version", _t("must be a whole number"))
    now = ctx.clock()
    try:
        with writing(ctx.engine) as conn:
            caller = authenticate(ctx, conn, call, completes=(ACCEPT_TERMS,))
            current = _current(conn)
            if current is None or current["version"] != version:
                raise SSOError.single(
                    Kind.invalid, Code.invalid_input, "version", _t("is not the current version of the terms")
                )
            taken = conn.execute(
                select(terms_acceptances.c.id).where(
                    terms_acceptances.c.user_id == caller.user_id, terms_acceptances.c.version == version
                )
            ).first()
            before = pending_actions(caller)
            cleared = clear_stored(conn, caller.user_id, ACCEPT_TERMS)
            if taken is not None and not cleared:
                return False
            changes: dict[str, Any] = {}
            if taken is None:
                conn.execute(
                    insert(terms_acceptances).values(
                        user_id=caller.user_id,
                        version=version,
                        time=now,
                        remote_addr=safe_text(call.remote_addr, REMOTE_ADDR_MAX),
                    )
                )
                changes["terms_version"] = change(None, version)
            if cleared:
                changes[ACTIONS_KEY] = change(before, [a for a in before if a != ACCEPT_TERMS])
            record(
                conn,
                now=now,
                **call.audit(),
                action="terms_accept",
                actor_id=caller.user_id,
                target_id=caller.user_id,
                changes=changes,
            )
    except IntegrityError:  # the same person accepting twice at once: one acceptance is kept
        return False
    return True


def acceptances_of(conn: Connection, user_id: str) -> list[Acceptance]:
    """A user's acceptances, newest first."""
    rows = conn.execute(
        select(terms_acceptances.c.version, terms_acceptances.c.time, terms_acceptances.c.remote_addr)
        .where(terms_acceptances.c.user_id == user_id)
        .order_by(terms_acceptances.c.version.desc())
    ).mappings()
    return [Acceptance(row["version"], row["time"], row["remote_addr"]) for row in rows]


def user_acceptances(ctx: Context, call: Call, user_id: Any) -> list[Acceptance]:
    """The acceptances of the caller, or of `user_id` (`users.view`)."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        if user_id is None or user_id == caller.user_id:
            return acceptances_of(conn, caller.user_id)
        require(caller, USERS_VIEW)
        target = load_user(conn, user_id)
        if target is None:
            raise no_such_user()
        require_over(conn, caller, target)
        return acceptances_of(conn, user_id)
