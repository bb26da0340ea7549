"""Search at scale (issue 14): the trigram indexes kept in step, the capped count, paging by key,
and EXPLAIN checks that the *contains* searches use the indexes, on both databases."""

from __future__ import annotations

import re
import threading
from datetime import datetime

import pytest
from sqlalchemy import delete, insert

from webapp import create_app
from webapp.db import reading, writing
from webapp.sso import Kind, SSOError
from webapp.sso.accounts.search import COUNT_CAP, search_statements
from webapp.sso.kernel.attributes import fold
from webapp.sso.kernel.rows import new_user_id
from webapp.sso.kernel.tables import SQLITE_SEARCH_TABLE, users

from ..conftest import PASSWORD, fresh_database
from ..conftest import app_config as config_for
from .helpers import ADDR, APP, CID


def search(sso, ust, **criteria):
    return sso.user.search(CID, criteria, ust, APP, ADDR)


def found(sso, ust, **criteria) -> set[str]:
    return {user["username"] for user in search(sso, ust, paginate=False, **criteria)["result"]}


def fts_is_consistent(sso) -> None:
    """SQLite: FTS5's own check that the index holds exactly what sso_user holds (raises if not)."""
    engine = sso.ctx.engine
    if engine.dialect.name == "sqlite":
        with writing(engine) as conn:
            conn.exec_driver_sql(
                f"INSERT INTO {SQLITE_SEARCH_TABLE}({SQLITE_SEARCH_TABLE}, rank) VALUES ('integrity-check', 1)"
            )


def bulk_rows(count: int, prefix: str, **columns) -> list[dict]:
    """Rows straight into sso_user (as an import or the bench seeds them), search columns folded."""
    now = datetime(2026, 1, 1)
    rows = []
    for i in range(count):
        values = {
            "username": f"{prefix}{i:06d}",
            "email": None,
            "display_name": columns.get("display_name"),
            "first_name": None,
            "middle_name": None,
            "last_name": None,
        }
        row = {
            "user_id": new_user_id(),
            "is_super_user": False,
            "is_active": True,
            "is_internal": False,
            "is_locked": False,
            "password_is_set": False,
            "password_must_change": False,
            "sign_up_time": now,
            "sign_up_status": "final",
            "approval_status": "approved",
            "version": 1,
        }
        for name, value in values.items():
            row[name], row[f"{name}_search"] = value, fold(value)
        rows.append(row)
    return rows


def shared_database(request, tmp_path_factory):
    """A fresh database of the fixture's kind with the `admin` super-user (as the `admin` fixture makes him),
    for the cases of a parametrized test that only read: (sso, admin's UST)."""
    app = create_app(config_for(fresh_database(request.param, request, tmp_path_factory)))
    sso = app.extensions["sso"]
    sso.operator.create_local("admin", PASSWORD, super_user=True)
    yield sso, sso.user.login(CID, "admin", PASSWORD, APP, ADDR).ust
    app.extensions["sso_engine"].dispose()


# --- the index kept in step ------------------------------------------------------------------------------


def test_every_write_path_keeps_the_contains_search_in_step(sso, admin):
    _, ust = admin
    made = sso.user.create_user(
        CID, {"username": "quill", "display_name": "Marigold Fenwick", "email": "Quill@Example.org"}, ust, APP, ADDR
    )
    fts_is_consistent(sso)
    assert found(sso, ust, q="marigold") == {"quill"}  # create
    assert found(sso, ust, q="EXAMPLE.ORG") == {"quill"}
    assert found(sso, ust, display_name="fenw", is_name_exact=False) == {"quill"}

    sso.user.update_user_by_id(
        CID, made["user_id"], {"display_name": "Juniper Ashby", "username": "quillon"}, ust, APP, ADDR
    )
    fts_is_consistent(sso)
    assert found(sso, ust, q="marigold") == set()  # update: the old text is gone
    assert found(sso, ust, q="juniper") == {"quillon"}
    assert found(sso, ust, q="quillon") == {"quillon"}

    sso.user.update_user_by_id(CID, made["user_id"], {"display_name": None, "email": None}, ust, APP, ADDR)
    fts_is_consistent(sso)
    assert found(sso, ust, q="juniper") == set()  # clear
    assert found(sso, ust, q="example.org") == set()

    with writing(sso.ctx.engine) as conn:  # a bulk insert straight into the table
        conn.execute(insert(users), bulk_rows(3, "imported", display_name="Heliotrope Vance"))
    fts_is_consistent(sso)
    assert found(sso, ust, q="heliotrope") == {"imported000000", "imported000001", "imported000002"}

    with writing(sso.ctx.engine) as conn:  # delete
        conn.execute(delete(users).where(users.c.username == "imported000001"))
    fts_is_consistent(sso)
    assert found(sso, ust, q="heliotrope") == {"imported000000", "imported000002"}


NAMES = [
    "Anna",
    "Hannah",
    "Joanne",
    "Strauß",
    "Weiss",
    'Qa"bc',
    "100% Real",
    "Jo_nes",
    "O'Brien",
    "Zoë",
    "Ärger",
    "Pann_a",
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def named(request, tmp_path_factory):
    """The names above created (through the service) once per database for every needle: (sso, UST)."""
    for sso, ust in shared_database(request, tmp_path_factory):
        for i, name in enumerate(NAMES):
            sso.user.create_user(CID, {"username": f"p{i}", "display_name": name}, ust, APP, ADDR)
        yield sso, ust


@pytest.mark.parametrize("needle", ["an", "ann", "ß", "SS", 'a"b', "%", "_n", "o'b", "zoë", "ÄRG"])
def test_indexed_contains_answers_exactly_what_a_plain_substring_test_answers(named, needle):
    sso, ust = named
    expected = {f"p{i}" for i, name in enumerate(NAMES) if fold(needle) in fold(name)}
    assert found(sso, ust, q=needle) - {"admin"} == expected
    assert found(sso, ust, display_name=needle, is_name_exact=False) == expected


# --- the capped count ------------------------------------------------------------------------------------


def test_a_broad_match_is_counted_up_to_the_cap_and_says_so(sso, admin):
    _, ust = admin
    with writing(sso.ctx.engine) as conn:
        conn.execute(insert(users), bulk_rows(COUNT_CAP + 5, "broad", display_name="Rosalind Kettering"))
    result = search(sso, ust, q="rosalind", page_size=50)
    assert (result["total"], result["total_is_capped"]) == (COUNT_CAP, True)
    assert result["has_next_page"] and len(result["result"]) == 50
    last = search(sso, ust, q="rosalind", page_size=50, cur_page=COUNT_CAP // 50)
    assert last["has_next_page"], "the page at the cap still knows more follow"
    narrow = search(sso, ust, q="broad00001")  # broad000010 .. broad000019 and broad00001
    assert (narrow["total"], narrow["total_is_capped"]) == (10, False)


# --- paging by key --------------------------------------------------------------------------------------


def test_paging_by_key_sees_every_user_once_while_others_are_inserted(sso, admin):
    _, ust = admin
    with writing(sso.ctx.engine) as conn:
        conn.execute(insert(users), bulk_rows(60, "kp", display_name="Keyset Person"))
    original = {f"kp{i:06d}" for i in range(60)}
    stop = threading.Event()
    inserted: list[str] = []

    def insert_while_paging() -> None:
        n = 0
        while not stop.is_set():
            # names that sort before, inside and after the pages already read
            for prefix in ("kp000000a", "kp000030a", "kp9"):
                name = f"{prefix}{n:04d}"
                sso.user.create_user(CID, {"username": name, "display_name": "Keyset Person"}, ust, APP, ADDR)
                inserted.append(name)
            n += 1

    writer = threading.Thread(target=insert_while_paging)
    writer.start()
    try:
        seen: list[str] = []
        page = search(sso, ust, q="keyset person", page_size=7)
        seen += [u["username"] for u in page["result"]]
        while page["has_next_page"]:
            page = search(sso, ust, q="keyset person", page_size=7, after=page["next_after"])
            assert page["cur_page"] is None and page["has_prev_page"]
            seen += [u["username"] for u in page["result"]]
            if len(seen) > 2000:
                break
    finally:
        stop.set()
        writer.join()
    assert inserted, "the writer really inserted while paging"
    assert len(seen) == len(set(seen)), "no user appears twice"
    assert original <= set(seen), "no user that was there all along is skipped"
    assert seen == sorted(seen, key=fold)


def test_paging_by_key_cannot_be_mixed_with_a_page_number(sso, admin):
    _, ust = admin
    with pytest.raises(SSOError) as info:
        search(sso, ust, after="x", cur_page=2)
    assert info.value.kind == Kind.invalid and "after" in info.value.errors


# --- EXPLAIN: the indexes are used ----------------------------------------------------------------------


def plan_of(conn, statement) -> str:
    sql = str(statement.compile(conn, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return "\n".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a tiny table: would the index serve at all?
    return "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def planned(request, tmp_path_factory):
    """Enough rows, and fresh statistics, for the planner to choose freely; made once per database for
    every criteria (the plans only read): the engine."""
    for sso, _ust in shared_database(request, tmp_path_factory):
        engine = sso.ctx.engine
        with writing(engine) as conn:
            conn.execute(insert(users), bulk_rows(20000, "plan", display_name="Quentin Abernathy"))
            conn.exec_driver_sql("ANALYZE sso_user" if engine.dialect.name != "sqlite" else "ANALYZE")
        yield engine


@pytest.mark.parametrize(
    "criteria", [{"q": "ann"}, {"display_name": "sonja", "is_name_exact": False}, {"email": "x@example.org"}]
)
def test_contains_searches_and_their_count_use_the_trigram_indexes(planned, criteria):
    engine = planned
    with reading(engine) as conn:
        count, page, _ = search_statements(criteria, conn.dialect.name)
        plans = [plan_of(conn, count), plan_of(conn, page)]
    for plan in plans[:1]:  # the count: the page query may walk the username index in order, by design
        if engine.dialect.name == "sqlite":
            assert "SCAN sso_user\n" not in plan + "\n" and "SCAN sso_user " not in plan, plan
            if "email" not in criteria:
                assert f"SCAN {SQLITE_SEARCH_TABLE} VIRTUAL TABLE INDEX" in plan, plan
        else:
            assert "Seq Scan" not in plan, plan
    # Known gap (issue 14 report): for a one-column contains PostgreSQL's planner, given the count's
    # LIMIT, may walk that column's b-tree instead of its trigram index; only `q` is checked here.
    if engine.dialect.name != "sqlite" and "q" in criteria:
        # Only a trigram index can take LIKE '%...%' as its index condition (a b-tree could only
        # be walked whole, with the LIKE as a filter).
        assert re.search(r"Index Cond: .*~~", plans[0]) and "_search_trgm" in plans[0], plans[0]
