"""Requests generated from the OpenAPI document (schemathesis) against gunicorn on PostgreSQL, with a real
super-user's UST: no answer is a 5xx and every answer conforms to the document."""

from __future__ import annotations

import os
from http.cookiejar import DefaultCookiePolicy

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from webapp.api.openapi import document
from webapp.api.operations import LOGOUT, OPERATIONS

from .conftest import APP, start_site

schema = schemathesis.openapi.from_dict(document())
# A body over SSO_MAX_BODY is refused before its contents are looked at (413): a rejection too.
schema.config.checks.negative_data_rejection.expected_statuses.append("413")
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])

# Positive-data acceptance is left out: a schema cannot say which emails are valid or which usernames are taken.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
EXAMPLES_PER_OPERATION = int(os.environ.get("API_FUZZ_EXAMPLES", 40))  # raise it for a longer hunt
MIN_CASES_PER_OPERATION = 20
OPERATIONS_BY_ROUTE = {(op.method, op.url): op for op in OPERATIONS}
# What the fuzzer's own PATCHes might do to itself, undone after each one so its UST keeps working.
USABLE = {
    "is_locked": False,
    "approval_status": "approved",
    "sign_up_status": "final",
    "password_expiry": None,
    "password_must_change": False,
    "required_actions": [],  # SPEC §19: a PATCH may ask the fuzzer itself to do something first
}


@pytest.fixture(scope="module")
def target(request, tmp_path_factory):
    """The live server on PostgreSQL, a super-user (`fuzzer`) whose UST every generated call carries, and the
    HTTP session they go through: one kept connection, no cookies kept, no proxy settings read from the
    environment (requests would read them again for every call: a tenth of this module's time)."""
    for site in start_site("postgresql", request, tmp_path_factory):
        fuzzer, ust = site.new_user("fuzzer", super_user=True)
        site.fuzzer, site.fuzzer_ust = fuzzer, ust
        with requests.Session() as http:
            http.trust_env = False
            http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
            site.http = http
            yield site


@pytest.fixture
def cases(request):
    """Counts the generated cases one operation's test ran (the static document takes only a few)."""
    count: list = []
    yield count
    print(f"{request.node.name}: {len(count)} cases")
    if not request.node.name.endswith("openapi.json]"):
        assert len(count) >= MIN_CASES_PER_OPERATION


def _with_real_credentials(case, site) -> dict[str, str]:
    """Use the fuzzer's UST and a configured app wherever the generated request names a string one."""
    headers = {}
    op = OPERATIONS_BY_ROUTE.get((case.method.upper(), case.path))
    if op is not None and op.uses_ust and op is not LOGOUT:
        headers["Authorization"] = f"Bearer {site.fuzzer_ust}"
        if isinstance(case.body, dict) and isinstance(case.body.get("ust"), str):
            case.body["ust"] = site.fuzzer_ust
    for container in (case.body, case.query):
        if isinstance(container, dict) and isinstance(container.get("current_app"), str):
            container["current_app"] = APP
    if isinstance(case.body, dict) and case.query and case.meta and case.meta.generation.mode.is_positive:
        # A key in both the query and the body is a 400 of its own (tested elsewhere); keep one of each.
        for key in set(case.body) & set(case.query):
            del case.body[key]
    return headers


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_no_server_error_and_answers_that_conform_to_the_document(case, target, cases):
    headers = _with_real_credentials(case, target)
    response = case.call(base_url=target.api.base_url, session=target.http, headers=headers)
    cases.append(case)
    if case.method == "PATCH" and case.path == "/zato/sso/user" and response.status_code == 200:
        target.set(target.fuzzer["user_id"], **USABLE)
    case.validate_response(response, checks=CHECKS, headers=headers)
