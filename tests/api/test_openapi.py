"""The OpenAPI document agrees with the service's attribute table and key lists, so it cannot drift."""

from __future__ import annotations

import re

import jsonschema_rs
import pytest

from webapp.api.openapi import document
from webapp.api.operations import OPERATIONS
from webapp.sso.accounts.create import CREATE_KEYS
from webapp.sso.accounts.search import SEARCH_KEYS
from webapp.sso.credentials.passwords import CHANGE_PASSWORD_KEYS
from webapp.sso.kernel.attributes import ATTRIBUTES, READ_ONLY, SELF_EDITABLE
from webapp.sso.kernel.errors import Code
from webapp.sso.kernel.presentation import FULL_VIEW

DOC = document()
ENVELOPE = {"ust", "current_app"}


def body_schema(path: str, method: str) -> dict:
    return DOC["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def types_of(schema: dict) -> set[str]:
    kind = schema["type"]
    return set(kind) if isinstance(kind, list) else {kind}


def test_the_document_is_a_valid_openapi_3_1_document():
    from schemathesis.specs.openapi.definitions import OPENAPI_31

    jsonschema_rs.Draft202012Validator(OPENAPI_31).validate(DOC)
    assert DOC["openapi"] == "3.1.0"


@pytest.mark.parametrize("name", list(ATTRIBUTES))
def test_each_attribute_is_documented_for_update_as_the_table_says(name):
    attr = ATTRIBUTES[name]
    body = body_schema("/zato/sso/user", "patch")
    schema = body["properties"][name]
    assert name not in body["required"], "every attribute may be omitted"
    assert ("null" in types_of(schema)) is attr.nullable
    expected_type = {"bool": "boolean"}.get(attr.type, "string")
    assert types_of(schema) - {"null"} == {expected_type}
    assert schema.get("maxLength") == attr.max_length
    assert schema.get("minLength") == attr.min_length
    if attr.choices:
        assert [c for c in schema["enum"] if c is not None] == list(attr.choices)
    if attr.type == "datetime":
        assert schema["format"] == "date-time"


def test_the_update_accepts_exactly_the_envelope_and_the_attributes():
    body = body_schema("/zato/sso/user", "patch")
    assert set(body["properties"]) == ENVELOPE | {"user_id"} | set(ATTRIBUTES) | {"required_actions"}
    assert body["additionalProperties"] is False
    assert body["required"] == ["current_app"]


def test_create_change_password_and_search_accept_exactly_the_services_keys():
    assert set(body_schema("/zato/sso/user", "post")["properties"]) == ENVELOPE | set(CREATE_KEYS)
    assert body_schema("/zato/sso/user", "post")["required"] == ["current_app", "username"]
    assert set(body_schema("/zato/sso/user/password", "patch")["properties"]) == ENVELOPE | set(CHANGE_PASSWORD_KEYS)
    assert set(body_schema("/zato/sso/user/search", "get")["properties"]) == ENVELOPE | set(SEARCH_KEYS)
    query = {p["name"] for p in DOC["paths"]["/zato/sso/user/search"]["get"]["parameters"]}
    assert query == {"current_app", *SEARCH_KEYS}, "the UST never travels in a URL"


def test_the_documented_user_is_every_attribute_and_read_only_field_and_never_a_secret():
    user = DOC["components"]["schemas"]["User"]
    assert set(user["properties"]) == {"cid", "status", *FULL_VIEW, "required_actions"}  # SPEC §19's list too
    # externalId (SCIM's, SPEC §21) is kept off Zato's wire format
    on_wire = {name for name, attribute in ATTRIBUTES.items() if attribute.on_zato_wire}
    assert set(FULL_VIEW) == {"user_id", *on_wire, *READ_ONLY} - {"totp_key"}
    assert user["additionalProperties"] is False
    assert set(user["required"]) == {"cid", "status", "user_id", *SELF_EDITABLE} - {"totp_key"}
    assert not {name for name in user["properties"] if re.search("hash|secret|session|key", name)}
    for name, attr in ATTRIBUTES.items():
        if not attr.write_only and attr.on_zato_wire:
            assert ("null" in types_of(user["properties"][name])) is attr.nullable


def test_two_factor_sign_in_is_documented_and_its_key_only_ever_written():
    login = body_schema("/zato/sso/user/login", "post")
    assert "totp_code" in login["properties"] and login["properties"]["totp_code"]["writeOnly"] is True
    assert Code.totp_missing in DOC["paths"]["/zato/sso/user/login"]["post"]["responses"]["403"]["description"]
    totp = body_schema("/zato/sso/user/totp", "patch")
    assert set(totp["properties"]) == ENVELOPE | {"user_id", "totp_key", "totp_label"}
    assert set(totp["required"]) == {"current_app", "totp_key", "totp_label"}
    assert body_schema("/zato/sso/user", "patch")["properties"]["totp_key"]["writeOnly"] is True
    assert body_schema("/zato/sso/user", "post")["properties"]["totp_key"]["writeOnly"] is True


def test_every_operation_documents_each_error_code_it_can_answer():
    for op in OPERATIONS:
        responses = DOC["paths"][op.url][op.method.lower()]["responses"]
        assert set(responses) == {"200", *map(str, op.errors)}
        for status, codes in op.errors.items():
            schema = responses[str(status)]["content"]["application/json"]["schema"]
            if not codes:  # 503: the database did not answer; no code, an empty sub_status
                assert schema["properties"]["sub_status"]["maxItems"] == 0
                assert "Retry-After" in responses[str(status)]["headers"]
                continue
            assert schema["properties"]["sub_status"]["items"]["enum"] == list(codes)
            assert all(code in responses[str(status)]["description"] for code in codes)


def test_every_spec_code_appears_in_the_document():
    documented = {code for op in OPERATIONS for codes in op.errors.values() for code in codes}
    every = {value for name, value in vars(Code).items() if not name.startswith("_")}
    assert every - documented == {Code.password_expiring, Code.actions_pending}  # the login's warnings
    assert Code.password_expiring in str(DOC["components"]["schemas"]["Login"])
    assert Code.actions_pending in str(DOC["components"]["schemas"]["Login"])


def test_the_served_document_is_the_generated_one(client):
    response = client.get("/zato/sso/openapi.json")
    assert response.status_code == 200 and response.json == DOC


@pytest.fixture
def client(app):
    return app.test_client()
