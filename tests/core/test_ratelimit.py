"""SPEC §14 rate-limit definitions and the shared counter, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from webapp.sso.kernel.errors import RateLimited
from webapp.sso.kernel.ratelimit import enforce, parse, rule_for


def test_a_definition_is_lines_of_app_n_unit_and_the_first_match_wins():
    definition = "# comment\nCRM=5/m\n\n*=100/d\nCRM=1/s"
    assert [(r.app, r.limit, r.unit) for r in parse(definition)] == [("CRM", 5, "m"), ("*", 100, "d"), ("CRM", 1, "s")]
    crm, other = rule_for(definition, "CRM"), rule_for(definition, "Other")
    assert crm is not None and crm.limit == 5
    assert other is not None and other.limit == 100
    assert rule_for("CRM=1/h", "Other") is None
    for bad in ("CRM=5", "CRM=0/m", "CRM=5/w", "=5/m", "CRM=-1/m"):
        with pytest.raises(ValueError):
            parse(bad)


def test_the_count_is_kept_in_the_database_and_a_new_window_starts_again(sso):
    now = [datetime(2030, 1, 1, 10, 0, 30)]
    sso.ctx.clock = lambda: now[0]
    user = {"user_id": "zusrlimited", "is_rate_limit_active": True, "rate_limit_def": "*=2/m"}
    enforce(sso.ctx, user, "CRM")
    enforce(sso.ctx, user, "CRM")
    with pytest.raises(RateLimited) as error:
        enforce(sso.ctx, user, "CRM")
    assert error.value.retry_after == 30
    now[0] += timedelta(seconds=30)
    enforce(sso.ctx, user, "CRM")
