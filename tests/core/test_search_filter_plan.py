"""The structured search filter (SCIM's, SPEC §21) runs on indexes: EXPLAIN on both databases with 20,000
users, as tests/core/test_search_scale.py checks the contains searches."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select

from webapp.db import reading, writing
from webapp.sso import Kind, SSOError
from webapp.sso.accounts.search import FILTER_NODES_MAX, search_statements
from webapp.sso.kernel.profile_fields import value_columns
from webapp.sso.kernel.profile_rows import load_schema
from webapp.sso.kernel.tables import profile_values, users

from .test_search_scale import bulk_rows, plan_of, shared_database

ROWS = 20000


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def planned(request, tmp_path_factory):
    for sso, _ust in shared_database(request, tmp_path_factory):
        engine = sso.ctx.engine
        rows = bulk_rows(ROWS, "plan")
        start = datetime(2026, 1, 1)
        for i, row in enumerate(rows):
            email = f"plan{i:06d}@example.org"
            row.update(external_id=f"ext-{i:06d}", last_modified=start + timedelta(minutes=i))
            row.update(email=email, email_search=email)
        with writing(engine) as conn:
            conn.execute(insert(users), rows)
            conn.exec_driver_sql("ANALYZE sso_user" if engine.dialect.name != "sqlite" else "ANALYZE")
        yield sso


@pytest.mark.parametrize(
    "tree",
    [
        ("eq", "external_id", "ext-000123"),
        ("eq", "username", "PLAN000123"),
        ("or", [("eq", "username", "plan000001"), ("eq", "external_id", "ext-000002")]),
        ("and", [("gt", "last_modified", "2026-01-14T20:00:00Z"), ("pr", "external_id")]),
        ("and", [("eq", "email", "x@example.org"), ("not", ("eq", "is_locked", True))]),
    ],
)
def test_filters_use_the_indexes(planned, tree):
    engine = planned.ctx.engine
    with reading(engine) as conn:
        count, _page, _ = search_statements({"filter": tree, "start_index": 1}, conn.dialect.name)
        plan = plan_of(conn, count)
    if engine.dialect.name == "sqlite":
        assert "SCAN sso_user\n" not in plan + "\n" and "SCAN sso_user " not in plan, plan
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
    else:
        assert "Seq Scan" not in plan, plan


def test_filters_answer_what_they_say(planned):
    ust = planned.user.login("c", "admin", "Correct-Horse-9", "CRM", "127.0.0.1").ust

    def found(tree) -> list[str]:
        result = planned.serve(planned_call(ust)).search({"filter": tree, "page_size": 100})["result"]
        return [row["username"] for row in result]

    assert found(("eq", "external_id", "ext-000123")) == ["plan000123"]
    assert (
        found(("and", [("ge", "last_modified", "2026-01-14T09:17:00Z"), ("sw", "username", "plan")]))
        == [f"plan{i:06d}" for i in range(19277, 20000)][:100]
    )
    assert found(("and", [("ew", "username", "019999"), ("co", "email", "@EXAMPLE.org")])) == ["plan019999"]
    assert found(("and", [("ew", "username", "019999"), ("not", ("pr", "email"))])) == []
    with pytest.raises(SSOError) as refused:
        found(("or", [("eq", "username", str(i)) for i in range(FILTER_NODES_MAX + 1)]))
    assert refused.value.kind == Kind.invalid and "filter" in refused.value.errors
    with pytest.raises(SSOError) as unknown:
        found(("eq", "password_hash", "x"))
    assert "cannot filter on 'password_hash'" in unknown.value.errors["filter"]


def test_filters_on_a_searchable_profile_field_use_its_index(planned):
    """SCIM's filters on a profile field mapped to an attribute (`profile:NAME`, SPEC §16/§21) go through the
    (field, search key, user) index, every one of the 20,000 users holding a value."""
    ust = planned.user.login("c", "admin", "Correct-Horse-9", "CRM", "127.0.0.1").ust
    admin = planned.serve(planned_call(ust))
    desk = admin.define_profile_field({"name": "plan_desk", "label": "Desk", "type": "integer", "searchable": True})
    engine = planned.ctx.engine
    with writing(engine) as conn:
        ids = conn.execute(select(users.c.user_id).where(users.c.username.like("plan%"))).scalars().all()
        rows = [{"user_id": user_id, "field_id": desk.id, **value_columns(desk, i)} for i, user_id in enumerate(ids)]
        conn.execute(insert(profile_values), rows)
        conn.exec_driver_sql("ANALYZE sso_profile_value" if engine.dialect.name != "sqlite" else "ANALYZE")
    trees = [
        ("eq", "profile:plan_desk", 123),
        ("and", [("gt", "profile:plan_desk", 19990), ("sw", "username", "plan")]),
        ("or", [("eq", "profile:plan_desk", 1), ("eq", "external_id", "ext-000002")]),
    ]
    with reading(engine) as conn:
        schema = load_schema(conn)
        for tree in trees:
            count, _page, _ = search_statements({"filter": tree, "start_index": 1}, conn.dialect.name, schema=schema)
            plan = plan_of(conn, count)
            if engine.dialect.name == "sqlite":
                assert "ix_sso_profile_value_search" in plan and "SCAN sso_profile_value" not in plan, plan
            else:
                assert "ix_sso_profile_value_search" in plan and "Seq Scan on sso_profile_value" not in plan, plan
    found = admin.search({"filter": trees[1], "page_size": 100})["result"]
    assert sorted(row["plan_desk"] for row in found) == list(range(19991, len(ids)))


def planned_call(ust):
    from webapp.sso.kernel.call import Call

    return Call(cid="c", ust=ust, current_app="CRM", remote_addr="127.0.0.1")
