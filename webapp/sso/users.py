"""The user services: the seed's update calls and the calls around them (SPEC §2–§5)."""
from __future__ import annotations

import base64
import math
import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, true, union, update
from sqlalchemy.exc import IntegrityError

from ..db import reading, writing
from ..models import audit, sessions, users
from .attributes import (ATTRIBUTES, NAME_ATTRIBUTES, READ_ONLY, check_value, check_values, fold, safe_text,
                         search_column, text_problem)
from .audit import change, record
from .context import Context
from .errors import Code, FieldErrors, Kind, SSOError
from .passwords import verify_password
from .sessions import Caller, Sessions, authenticate, check_new_password, password_columns
from .views import UserData, user_view

PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, UNPAGED_MAX = 50, 100, 1000
CUR_PAGE_MAX = 2**31 - 1  # keeps OFFSET inside a 64-bit integer

CREATE_KEYS = ("username", "password", "email", "display_name", "first_name", "middle_name", "last_name",
               "password_must_change", "is_locked", "auto_approve")
CHANGE_PASSWORD_KEYS = ("new_password", "old_password", "user_id", "password_expiry", "must_change")
SEARCH_KEYS = ("user_id", "username", "email", *NAME_ATTRIBUTES, "sign_up_status", "approval_status",
               "is_locked", "q", "is_name_exact", "name_op", "paginate", "cur_page", "page_size")


class _RowMoved(Exception):
    """The row's version changed between our read and our conditional write."""


def new_user_id() -> str:
    """`zusr` + random base32, as Zato makes them."""
    return "zusr" + base64.b32encode(os.urandom(15)).decode().lower()


def _unknown_key_message(key: Any) -> str:
    if key in ("password", "old_password", "new_password"):
        return "passwords change only through the change-password call"
    if key in READ_ONLY:
        return "is read-only"
    return "is not an attribute that can be updated"


def _require_mapping(data: Any) -> Mapping:
    if not isinstance(data, Mapping) or not data:
        raise SSOError.single(Kind.invalid, Code.no_data, "data", "no attributes to update were given")
    return data


def _reject_unknown(data: Mapping, allowed, describe=_unknown_key_message) -> None:
    errors = FieldErrors()
    for key in data:
        if not isinstance(key, str) or key not in allowed:
            errors.add(str(key)[:128], describe(key))
    errors.raise_if_any(Kind.invalid)


def _load_user(conn: Connection, user_id: Any, *, lock: bool = False):
    if not isinstance(user_id, str) or text_problem(user_id):  # no id has one; PostgreSQL refuses NUL
        return None
    query = select(users).where(users.c.user_id == user_id)
    return conn.execute(query.with_for_update() if lock else query).mappings().first()


def _changed(target, clean: Mapping[str, Any]) -> dict[str, Any]:
    """The values in `clean` that differ from what `target` holds."""
    return {name: value for name, value in clean.items() if target[name] != value}


def _version_conflict() -> SSOError:
    return SSOError.single(Kind.precondition, Code.version_conflict, "version",
                           "this user was changed by someone else in the meantime")


def _username_taken(conn: Connection, username: str, own_id: str | None) -> bool:
    query = select(users.c.user_id).where(users.c.username_search == fold(username))
    if own_id is not None:
        query = query.where(users.c.user_id != own_id)
    return conn.execute(query.limit(1)).first() is not None


def _taken_error() -> SSOError:
    return SSOError.single(Kind.conflict, Code.username_exists, "username", "is already taken")


def _attribute_columns(name: str, value: Any) -> dict[str, Any]:
    """The columns one attribute writes: itself, and its search column kept in step."""
    columns = {name: value}
    if ATTRIBUTES[name].searchable:
        columns[search_column(name)] = fold(value)
    return columns


def _side_effects(name: str, value: Any, actor_id: str, now) -> dict[str, Any]:
    """Columns that follow a change: who locked and when; who decided approval and when."""
    if name == "is_locked":
        return {"locked_time": now, "locked_by": actor_id} if value else {"locked_time": None, "locked_by": None}
    if name == "approval_status":
        return {"approval_status_mod_time": now, "approval_status_mod_by": actor_id}
    return {}


class Users:
    """The SSO `user` facade: `app.extensions["sso"].user`."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.sessions = Sessions(ctx)

    # --- sessions --------------------------------------------------------------------------------

    def login(self, cid, username, password, current_app, remote_addr, user_agent=None, new_password=None,
              *, channel: str = "python"):
        """Log a user in; see `Sessions.login`."""
        return self.sessions.login(cid, username, password, current_app, remote_addr, user_agent, new_password,
                                   channel=channel)

    def logout(self, cid, current_ust, current_app, remote_addr) -> None:
        """End a session (always succeeds)."""
        self.sessions.logout(cid, current_ust, current_app, remote_addr)

    def renew(self, cid, current_ust, current_app, remote_addr):
        """Extend a live session; returns its new expiration time."""
        return self.sessions.renew(cid, current_ust, current_app, remote_addr)

    def _caller(self, conn: Connection, current_ust, current_app) -> Caller:
        return authenticate(self.ctx, conn, current_ust, current_app)

    # --- reading -----------------------------------------------------------------------------------

    def get_current_user(self, cid, current_ust, current_app, remote_addr) -> UserData:
        """The caller's own account, as their role may see it."""
        with reading(self.ctx.engine) as conn:
            caller = self._caller(conn, current_ust, current_app)
            return user_view(caller.user, caller.is_super_user)

    def get_user_by_id(self, cid, user_id, current_ust, current_app, remote_addr) -> UserData:
        """A user by id: super-users any user, regular users only themselves."""
        with reading(self.ctx.engine) as conn:
            caller = self._caller(conn, current_ust, current_app)
            if user_id is None or user_id == caller.user_id:
                return user_view(caller.user, caller.is_super_user)
            if not caller.is_super_user:
                raise SSOError.single(Kind.forbidden, Code.auth_invalid)
            row = _load_user(conn, user_id)
            if row is None:
                raise SSOError.single(Kind.not_found, Code.user_id_unknown, "user_id", "no such user")
            return user_view(row, True)

    # --- the update (SPEC §4) ------------------------------------------------------------------------

    def update_current_user(self, cid, data, current_ust, current_app, remote_addr, *, expected_version=None,
                            channel: str = "python", user_agent=None) -> UserData:
        """Update the caller's own account with the partial `data`."""
        return self._update(cid, None, data, current_ust, current_app, remote_addr, expected_version, channel,
                            user_agent)

    def update_user_by_id(self, cid, user_id, data, current_ust, current_app, remote_addr, *,
                          expected_version=None, channel: str = "python", user_agent=None) -> UserData:
        """Update the user `user_id` with the partial `data` (a regular user may name only themselves)."""
        return self._update(cid, user_id, data, current_ust, current_app, remote_addr, expected_version, channel,
                            user_agent)

    def _check_update(self, conn: Connection, user_id, data: Mapping, current_ust, current_app, expected_version,
                      *, lock: bool = False):
        """Steps 3–8 of SPEC §4 against one consistent read; returns (caller, target, clean values).

        With `lock`, the target row is read FOR UPDATE (inside a write transaction)."""
        caller = self._caller(conn, current_ust, current_app)
        naming_other = user_id is not None and user_id != caller.user_id
        if naming_other and not caller.is_super_user:
            raise SSOError.single(Kind.forbidden, Code.invalid_input, "user_id",
                                  "you may update only your own account")
        if not caller.is_super_user:
            errors = FieldErrors()
            for key in data:
                if not ATTRIBUTES[key].self_editable:
                    errors.add(key, "only a super-user may change this")
            errors.raise_if_any(Kind.forbidden)
        if naming_other or lock:
            target = _load_user(conn, user_id if naming_other else caller.user_id, lock=lock)
        else:
            target = caller.user
        if target is None:
            raise SSOError.single(Kind.not_found, Code.user_id_unknown, "user_id", "no such user")
        errors = FieldErrors()
        clean = check_values(dict(data), errors)
        errors.raise_if_any(Kind.invalid)
        if "username" in clean and _username_taken(conn, clean["username"], target["user_id"]):
            raise _taken_error()
        if expected_version is not None and expected_version != target["version"]:
            raise _version_conflict()
        return caller, target, clean

    def _update(self, cid, user_id, data, current_ust, current_app, remote_addr, expected_version, channel,
                user_agent) -> UserData:
        data = _require_mapping(data)
        _reject_unknown(data, ATTRIBUTES)
        audit_context = {"cid": cid, "channel": channel, "current_app": current_app, "remote_addr": remote_addr,
                         "user_agent": user_agent}
        check = (user_id, data, current_ust, current_app, expected_version)
        try:
            # The fast path: reads in a read transaction, the write lock held only for UPDATE + INSERT.
            with reading(self.ctx.engine) as conn:
                caller, target, clean = self._check_update(conn, *check)
            if not _changed(target, clean):
                return user_view(target, caller.is_super_user)
            with writing(self.ctx.engine) as conn:
                return self._write(conn, caller, target, clean, audit_context)
        except _RowMoved:
            if expected_version is not None:
                raise _version_conflict() from None
        except IntegrityError:
            raise _taken_error() from None
        # Someone saved this user between our read and our write, and the caller did not ask for a
        # given version: check again with the row locked, which cannot lose (a busy row means a
        # wait, never a refusal), and write only what still differs.
        try:
            with writing(self.ctx.engine) as conn:
                caller, target, clean = self._check_update(conn, *check, lock=True)
                return self._write(conn, caller, target, clean, audit_context)
        except IntegrityError:
            raise _taken_error() from None

    def _write(self, conn: Connection, caller: Caller, target, clean: dict[str, Any], audit_context) -> UserData:
        """UPDATE the changed columns where the version is still the one read, and audit it (one transaction)."""
        changed = _changed(target, clean)
        if not changed:
            return user_view(target, caller.is_super_user)
        now = self.ctx.clock()
        values: dict[str, Any] = {}
        for name, value in changed.items():
            values.update(_attribute_columns(name, value))
            values.update(_side_effects(name, value, caller.user_id, now))
        result = conn.execute(
            update(users)
            .where(users.c.user_id == target["user_id"], users.c.version == target["version"])
            .values(**values, version=users.c.version + 1))
        if result.rowcount != 1:
            raise _RowMoved()
        record(conn, now=now, action="update", actor_id=caller.user_id, target_id=target["user_id"],
               changes={name: change(target[name], value) for name, value in changed.items()}, **audit_context)
        return user_view({**target, **values, "version": target["version"] + 1}, caller.is_super_user)

    # --- creating ------------------------------------------------------------------------------------

    def create_user(self, cid, data, current_ust, current_app, remote_addr, *, channel: str = "python",
                    user_agent=None) -> UserData:
        """Create a user (super-users only); returns the new user with its `user_id`."""
        data = _require_mapping(data)
        _reject_unknown(data, CREATE_KEYS, lambda key: "is not an attribute a new user can be given")
        with reading(self.ctx.engine) as conn:
            caller = self._caller(conn, current_ust, current_app)
        if not caller.is_super_user:
            raise SSOError.single(Kind.forbidden, Code.auth_invalid)
        return self._create(cid, data, actor_id=caller.user_id, channel=channel, current_app=current_app,
                            remote_addr=remote_addr, user_agent=user_agent, super_user=False)

    def create_local(self, username: str, password: str | None, *, super_user: bool) -> UserData:
        """Create an approved, sign-up-final user from the command line (the only way to a super-user)."""
        data = {"username": username, "auto_approve": True}
        if password is not None:
            data["password"] = password
        return self._create("cli", data, actor_id=None, channel="cli", current_app=None, remote_addr=None,
                            user_agent=None, super_user=super_user)

    def _create(self, cid, data: Mapping, *, actor_id, channel, current_app, remote_addr, user_agent,
                super_user: bool) -> UserData:
        if "username" not in data:
            raise SSOError(Kind.malformed, [Code.invalid_input], {"username": "is required"})
        errors = FieldErrors()
        attrs = {key: value for key, value in data.items() if key in ATTRIBUTES}
        clean = check_values(attrs, errors)
        auto_approve = data.get("auto_approve", False)
        if type(auto_approve) is not bool:
            errors.add("auto_approve", "must be true or false")
        errors.raise_if_any(Kind.invalid)
        if "password" in data:
            check_new_password(self.ctx, data["password"], "password")
        now = self.ctx.clock()
        row: dict[str, Any] = {
            "user_id": new_user_id(), "is_super_user": super_user, "is_active": True, "is_internal": False,
            "is_locked": False, "password_must_change": False, "password_is_set": False,
            "sign_up_time": now, "sign_up_status": "final", "approval_status": "before_decision", "version": 1,
            "creation_ctx": {"channel": channel, "creator": actor_id, "remote_addr": safe_text(remote_addr, 256),
                             "current_app": current_app},
        }
        for name in ATTRIBUTES:
            if ATTRIBUTES[name].searchable:
                row.update(_attribute_columns(name, clean.get(name)))
        for name in ("is_locked", "password_must_change"):
            if name in clean:
                row[name] = clean[name]
        if row["is_locked"]:
            row.update(_side_effects("is_locked", True, actor_id, now))
        if auto_approve:
            row["approval_status"] = "approved"
            row.update(_side_effects("approval_status", "approved", actor_id, now))
        if "password" in data:
            row.update(password_columns(self.ctx, data["password"], now,
                                        must_change=row["password_must_change"]))
        shown = {name: change(None, row[name]) for name in (*ATTRIBUTES, "is_super_user") if row.get(name) is not None}
        try:
            with writing(self.ctx.engine) as conn:
                if _username_taken(conn, clean["username"], None):
                    raise _taken_error()
                conn.execute(insert(users).values(**row))
                record(conn, now=now, cid=cid, action="create", actor_id=actor_id, target_id=row["user_id"],
                       channel=channel, current_app=current_app, remote_addr=remote_addr, user_agent=user_agent,
                       changes=shown)
        except IntegrityError:
            raise _taken_error() from None
        full = {name: row.get(name) for name in users.c.keys()}
        return user_view(full, True)

    # --- passwords -------------------------------------------------------------------------------------

    def change_password(self, cid, data, current_ust, current_app, remote_addr, *, channel: str = "python",
                        user_agent=None) -> None:
        """Set a password (SPEC §5): one's own with the old one, anyone's as a super-user."""
        data = _require_mapping(data)
        _reject_unknown(data, CHANGE_PASSWORD_KEYS, lambda key: "is not a change-password input")
        if "new_password" not in data:
            raise SSOError(Kind.malformed, [Code.invalid_input], {"new_password": "is required"})
        user_id = data.get("user_id")
        with reading(self.ctx.engine) as conn:
            caller = self._caller(conn, current_ust, current_app)
            own = user_id is None or user_id == caller.user_id
            if not own and not caller.is_super_user:
                raise SSOError.single(Kind.forbidden, Code.invalid_input, "user_id",
                                      "you may change only your own password")
            target = caller.user if own else _load_user(conn, user_id)
        if target is None:
            raise SSOError.single(Kind.not_found, Code.user_id_unknown, "user_id", "no such user")
        errors = FieldErrors()
        days = data.get("password_expiry")
        if days is not None and (type(days) is not int or not 1 <= days <= 36500):
            errors.add("password_expiry", "must be a whole number of days from 1 to 36500")
        must_change = data.get("must_change", False)
        if type(must_change) is not bool:
            errors.add("must_change", "must be true or false")
        errors.raise_if_any(Kind.invalid)
        check_new_password(self.ctx, data["new_password"], "new_password")
        if own:
            if not verify_password(data.get("old_password"), target["password_hash"]):
                raise SSOError.single(Kind.forbidden, Code.auth_invalid, "old_password", "is not right")
        now = self.ctx.clock()
        columns = password_columns(self.ctx, data["new_password"], now, days, must_change)
        with writing(self.ctx.engine) as conn:
            conn.execute(update(users).where(users.c.user_id == target["user_id"])
                         .values(**columns, version=users.c.version + 1))
            ending = delete(sessions).where(sessions.c.user_id == target["user_id"])
            if own:
                ending = ending.where(sessions.c.id != caller.session_id)
            conn.execute(ending)
            changes = {name: change(target[name], columns[name])
                       for name in ("password_expiry", "password_must_change") if target[name] != columns[name]}
            changes["password"] = {"old": "(not shown)", "new": "(changed)"}
            record(conn, now=now, cid=cid, action="change_password", actor_id=caller.user_id,
                   target_id=target["user_id"], channel=channel, current_app=current_app,
                   remote_addr=remote_addr, user_agent=user_agent, changes=changes)

    # --- searching ---------------------------------------------------------------------------------------

    def search(self, cid, criteria, current_ust, current_app, remote_addr) -> dict[str, Any]:
        """Search users (super-users only), in Zato's result shape."""
        criteria = {} if criteria is None else criteria
        if not isinstance(criteria, Mapping):
            raise SSOError(Kind.malformed, [Code.invalid_input], {"criteria": "must be an object"})
        _reject_unknown(criteria, SEARCH_KEYS, lambda key: "is not a search criterion")
        with reading(self.ctx.engine) as conn:
            caller = self._caller(conn, current_ust, current_app)
            if not caller.is_super_user:
                raise SSOError.single(Kind.forbidden, Code.auth_invalid)
            where, paging = _search_filter(criteria)
            total = conn.execute(select(func.count()).select_from(users).where(where)).scalar_one()
            page, size, paginate = paging
            query = select(users).where(where).order_by(users.c.username_search)
            query = query.offset((page - 1) * size).limit(size) if paginate else query.limit(UNPAGED_MAX)
            rows = conn.execute(query).mappings().all()
        num_pages = max(1, math.ceil(total / size)) if paginate else 1
        return {
            "result": [user_view(row, True) for row in rows],
            "total": total, "num_pages": num_pages, "cur_page": page if paginate else 1,
            "page_size": size if paginate else len(rows),
            "has_next_page": paginate and page < num_pages, "has_prev_page": paginate and page > 1,
            "next_page": page + 1 if paginate and page < num_pages else None,
            "prev_page": page - 1 if paginate and page > 1 else None,
        }

    # --- history ---------------------------------------------------------------------------------------------

    def history(self, cid, user_id, current_ust, current_app, remote_addr, *, limit: int = 50) -> list[dict]:
        """Audit records, newest first: with no `user_id`, the caller's own activity (what they did and
        what was done to them); with one, the changes made to that user's record (super-users, or oneself).
        Each record carries `actor_username` and `target_username` (None for a user that no longer exists)."""
        with reading(self.ctx.engine) as conn:
            caller = self._caller(conn, current_ust, current_app)
            if user_id is not None and user_id != caller.user_id and not caller.is_super_user:
                raise SSOError.single(Kind.forbidden, Code.auth_invalid)
            if user_id is not None and (not isinstance(user_id, str) or text_problem(user_id)):
                return []  # no user has such an id (and PostgreSQL could not compare it)
            size = max(1, min(limit, 500))
            if user_id is None:
                # Two index-ordered LIMIT queries: an OR over both columns would sort every match.
                newest = [select(audit.c.id).where(column == caller.user_id).order_by(audit.c.id.desc())
                          .limit(size).subquery() for column in (audit.c.target_id, audit.c.actor_id)]
                where = audit.c.id.in_(union(*(select(part.c.id) for part in newest)))
            else:
                where = audit.c.target_id == user_id
            actor, target = users.alias("actor"), users.alias("target")
            query = (select(audit, actor.c.username.label("actor_username"),
                            target.c.username.label("target_username"))
                     .outerjoin(actor, actor.c.user_id == audit.c.actor_id)
                     .outerjoin(target, target.c.user_id == audit.c.target_id)
                     .where(where).order_by(audit.c.id.desc()).limit(size))
            return [dict(row) for row in conn.execute(query).mappings()]


def _criterion_errors(criteria: Mapping) -> FieldErrors:
    errors = FieldErrors()
    for key in ("user_id", "username", "email", *NAME_ATTRIBUTES, "q"):
        if key in criteria and not isinstance(criteria[key], str):
            errors.add(key, "must be a string")
        elif key in criteria and text_problem(criteria[key]):
            errors.add(key, text_problem(criteria[key]))
    for key in ("sign_up_status", "approval_status"):
        if key in criteria:
            _, message = check_value(ATTRIBUTES[key], criteria[key])
            if message:
                errors.add(key, message)
    for key in ("is_locked", "is_name_exact", "paginate"):
        if key in criteria and type(criteria[key]) is not bool:
            errors.add(key, "must be true or false")
    for key in ("cur_page", "page_size"):
        if key in criteria and (type(criteria[key]) is not int or criteria[key] < 1):
            errors.add(key, "must be a whole number of at least 1")
    if type(criteria.get("cur_page")) is int and criteria["cur_page"] > CUR_PAGE_MAX:
        errors.add("cur_page", f"must be at most {CUR_PAGE_MAX}")
    if "name_op" in criteria and criteria["name_op"] not in ("and", "or"):
        errors.add("name_op", "must be and or or")
    return errors


def _contains(column, text: str):
    escaped = fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")


def _search_filter(criteria: Mapping):
    """The WHERE clause and (page, size, paginate) for validated search criteria."""
    errors = _criterion_errors(criteria)
    errors.raise_if_any(Kind.invalid)
    clauses = []
    if "user_id" in criteria:
        clauses.append(users.c.user_id == criteria["user_id"])
    for key in ("username", "email"):
        if key in criteria:
            clauses.append(users.c[search_column(key)] == fold(criteria[key]))
    for key in ("sign_up_status", "approval_status", "is_locked"):
        if key in criteria:
            clauses.append(users.c[key] == criteria[key])
    exact = criteria.get("is_name_exact", True)
    names = [(users.c[search_column(key)] == fold(criteria[key])) if exact
             else _contains(users.c[search_column(key)], criteria[key])
             for key in NAME_ATTRIBUTES if key in criteria]
    if names:
        clauses.append(or_(*names) if criteria.get("name_op", "and") == "or" else and_(*names))
    if criteria.get("q"):
        clauses.append(or_(*(_contains(users.c[search_column(key)], criteria["q"])
                             for key in ("username", "email", *NAME_ATTRIBUTES))))
    page = criteria.get("cur_page", 1)
    size = min(criteria.get("page_size", PAGE_SIZE_DEFAULT), PAGE_SIZE_MAX)
    return (and_(true(), *clauses) if clauses else true()), (page, size, criteria.get("paginate", True))
