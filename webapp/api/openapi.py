"""The OpenAPI 3.1 document, generated from the operation table and the service's attribute table."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

from ..sso.kernel.attributes import ATTRIBUTES, READ_ONLY, SELF_READABLE, Attribute
from ..sso.kernel.errors import Code
from ..sso.kernel.permissions import PERMISSIONS
from ..sso.kernel.presentation import FULL_VIEW
from ..sso.kernel.profile_fields import ProfileField
from ..sso.kernel.required_actions import ACTIONS as REQUIRED_ACTIONS
from ..sso.kernel.texts import LOCALES
from .operations import OPENAPI_PATH, OPERATIONS, PREFIX, TOKENS, Operation
from .schemas import profile_field_schema
from .wire import IF_MATCH_SYNTAX

CODE_MEANINGS = {
    Code.username_exists: "the username is taken",
    Code.user_id_unknown: "no user has this user_id",
    Code.password_rejected_word: "the password contains a common word",
    Code.password_too_short: "the password is too short",
    Code.password_too_long: "the password is too long",
    Code.password_not_complex: "the password is too easy to guess (zxcvbn score below SSO_PASSWORD_MIN_COMPLEXITY)",
    Code.password_expired: "the password has expired: log in again with new_password",
    Code.password_expiring: "the password expires soon",
    Code.password_must_change: "the password must be changed: log in again with new_password",
    Code.actions_pending: "signed in, but required actions wait (`required_actions`); other calls answer E012001",
    Code.actions_required: "required actions wait (`required_actions` lists them): only the calls that complete "
    "them are answered until they are done",
    Code.app_not_allowed: "current_app is not a configured application",
    Code.auth_invalid: "not allowed (wrong credentials, a password that has expired, or a super-user's call)",
    Code.user_locked: "the caller is locked (a lock also ends the user's sessions: their USTs answer this until "
    "the user is unlocked, then E007001)",
    Code.sign_up_not_final: "the caller's sign-up is not final",
    Code.totp_missing: "two-factor sign-in is on: send totp_code",
    Code.session_invalid: "no valid session: the UST is missing, unknown, expired or logged out (as a 404: the "
    "session asked about is not one the caller may see)",
    Code.invalid_input: "invalid input: see `errors` for each field",
    Code.invalid_operation: "refused: it would take away the caller's own access, or leave no super-user who can "
    "log in",
    Code.no_data: "nothing to update was sent",
    Code.version_conflict: "the user changed since the ETag sent in If-Match",
    Code.username_invalid: "the username is missing, or contains a word that is not allowed",
    Code.username_too_long: "the username is too long",
    Code.username_has_whitespace: "the username contains whitespace",
    Code.email_invalid: "the email is not a valid address, or contains a word that is not allowed",
    Code.email_exists: "another account uses this email",
    Code.email_too_long: "the email is too long",
    Code.email_has_whitespace: "the email contains whitespace",
    Code.email_missing: "an email is required",
    Code.no_signup: "sign-up is not open for this application (SSO_SIGNUP_APPS)",
    Code.no_such_signup_token: "no such sign-up token, or it has expired",
    Code.signup_confirmed: "this sign-up is already confirmed",
    Code.internal_error: "we could not send the email, try again later",
    Code.password_reset_refused: "the password-reset token or reset key is not valid (unknown, expired or used)",
    Code.metadata_not_allowed: "this application may not send login metadata (remote_addr, user_agent)",
    Code.attr_exists: "an attribute of this name exists already",
    Code.attr_missing: "no attribute of this name exists (or it has expired)",
}

HTTP_MEANINGS = {
    400: "Malformed request or missing input",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    412: "Precondition failed",
    413: "Body too large",
    422: "Invalid data",
    429: "Sign-in paused after failed attempts, or the user's rate limit used up (see Retry-After)",
    503: "Service unavailable: the database (or the SMTP server) did not answer in time; try again "
    "later (after Retry-After seconds when it is sent)",
}

# Zato's form: naive UTC ISO 8601 (no offset), microseconds only when not zero.
DATETIME_OUT = {"type": "string", "description": "UTC, ISO 8601 without an offset, e.g. 2345-12-27T11:22:33"}

READ_ONLY_SCHEMAS: dict[str, dict[str, Any]] = {
    "user_id": {"type": "string"},
    "is_super_user": {"type": "boolean"},
    "is_active": {"type": "boolean"},
    "is_internal": {"type": "boolean"},
    "creation_ctx": {"type": ["object", "null"]},
    "locked_time": {"type": ["string", "null"]},
    "locked_by": {"type": ["string", "null"]},
    "approval_status_mod_time": {"type": ["string", "null"]},
    "approval_status_mod_by": {"type": ["string", "null"]},
    "password_is_set": {"type": "boolean"},
    "password_last_set": {"type": ["string", "null"]},
    "sign_up_time": DATETIME_OUT,
    "version": {"type": "integer", "minimum": 1},
    "is_approval_needed": {"type": "boolean"},
    "deletion_time": {
        "type": ["string", "null"],
        "description": "extension: when a deletion the person scheduled is due (SPEC §20); null when none is",
    },
}


# A role as answered (SPEC §17); `holders` and `holder_count` where the call says.
ROLE_PROPERTIES: dict[str, dict[str, Any]] = {
    "name": {"type": "string"},
    "description": {"type": "string"},
    "permissions": {"type": "array", "items": {"enum": list(PERMISSIONS)}},
    "holder_count": {"type": "integer", "minimum": 0, "description": "in a list: how many hold it"},
    "holders": {
        "type": "array",
        "description": "one role: the users holding it, by username",
        "items": {
            "type": "object",
            "properties": {"user_id": {"type": "string"}, "username": {"type": "string"}},
            "required": ["user_id", "username"],
        },
    },
}

SESSION_PROPERTIES: dict[str, dict[str, Any]] = {
    "session_id": {"type": "string", "description": "public and random: names the session, cannot open it"},
    "user_id": {"type": "string"},
    "current_app": {"type": "string"},
    "remote_addr": {"type": ["string", "null"]},
    "user_agent": {"type": ["string", "null"]},
    "creation_time": DATETIME_OUT,
    "expiration_time": DATETIME_OUT,
    "last_use_time": {**DATETIME_OUT, "description": "kept to the minute"},
    "is_current": {"type": "boolean", "description": "the session of the UST making this call"},
}
PASSKEY_PROPERTIES: dict[str, dict[str, Any]] = {
    "passkey_id": {"type": "string", "description": "public: names the passkey in DELETE user/passkey"},
    "user_id": {"type": "string"},
    "name": {"type": "string", "maxLength": 64},
    "creation_time": DATETIME_OUT,
    "last_use_time": {"type": ["string", "null"], "description": "the last sign-in with it, or null"},
    "is_synced": {"type": "boolean", "description": "backup eligible: synced between devices; else device-bound"},
    "is_backed_up": {"type": "boolean"},
    "aaguid": {"type": "string", "description": "the authenticator's model (zeros when it does not say)"},
    "transports": {"type": "array", "items": {"type": "string"}},
}


def output_schema(attr: Attribute) -> dict[str, Any]:
    """An attribute as it is answered: its type, null when allowed, its choices and its length limit."""
    schema: dict[str, Any] = {"bool": {"type": "boolean"}, "datetime": dict(DATETIME_OUT)}.get(attr.type) or {
        "type": "string"
    }
    if attr.choices:
        schema["enum"] = list(attr.choices) + ([None] if attr.nullable else [])
    if attr.max_length is not None:
        schema["maxLength"] = attr.max_length
    if attr.nullable:
        schema["type"] = [schema["type"], "null"]
    return schema


def user_properties() -> dict[str, dict[str, Any]]:
    """Every attribute a super-user's GET may show (and nothing else: never a secret)."""
    shown = {
        name: output_schema(ATTRIBUTES[name]) if name in ATTRIBUTES else dict(READ_ONLY_SCHEMAS[name])
        for name in FULL_VIEW
    }
    shown["required_actions"] = REQUIRED_ACTIONS_SCHEMA
    return shown


REQUIRED_ACTIONS_SCHEMA = {
    "type": "array",
    "items": {"enum": list(REQUIRED_ACTIONS)},
    "description": "extension (SPEC §19): what the user must do before anything else, in this order",
}
_TERMS_PROPERTIES: dict[str, Any] = {
    "version": {"type": ["integer", "null"], "minimum": 1, "description": "null before any was published"},
    "text": {"type": "string", "description": "the Markdown as published"},
    "html": {"type": "string", "description": "rendered and sanitised when published"},
    "published_time": DATETIME_OUT,
    "requires_acceptance": {"type": "boolean"},
}


def _envelope(status: dict[str, Any], properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"cid": {"type": "string"}, "status": status, **properties},
        "required": ["cid", "status", *required],
        "additionalProperties": False,
    }


def _schemas() -> dict[str, Any]:
    ok = {"const": "ok"}
    return {
        "User": _envelope(ok, user_properties(), ["user_id", *SELF_READABLE]),
        "UserRecord": {
            "type": "object",
            "properties": {
                **user_properties(),
                "last_sign_in": {
                    **DATETIME_OUT,
                    "type": ["string", "null"],
                    "description": "with `with_last_sign_in`: the newest login",
                },
            },
            "required": list(FULL_VIEW),
            "additionalProperties": False,
        },
        "Ok": _envelope(ok, {}, []),
        "Totp": _envelope(
            ok,
            {
                "totp_key": {
                    "type": "string",
                    "description": "only when a new key was generated (empty or null sent): keep it now",
                }
            },
            [],
        ),
        "Login": _envelope(
            {"enum": ["ok", "warning"]},
            {
                "ust": {"type": "string"},
                "expiration_time": DATETIME_OUT,
                "sub_status": {"type": "array", "items": {"enum": [Code.password_expiring, Code.actions_pending]}},
                "required_actions": {"type": "array", "items": {"enum": list(REQUIRED_ACTIONS)}},
            },
            ["ust", "expiration_time"],
        ),
        "Signup": _envelope(ok, {"confirm_token": {"type": "string"}}, ["confirm_token"]),
        "ResetKey": _envelope(ok, {"reset_key": {"type": "string"}}, ["reset_key"]),
        "SessionRecord": {
            "type": "object",
            "properties": SESSION_PROPERTIES,
            "required": list(SESSION_PROPERTIES),
            "additionalProperties": False,
        },
        "Session": _envelope(ok, SESSION_PROPERTIES, list(SESSION_PROPERTIES)),
        "SessionList": _envelope(
            ok, {"result": {"type": "array", "items": {"$ref": "#/components/schemas/SessionRecord"}}}, ["result"]
        ),
        "SessionValidity": _envelope(ok, {"is_valid": {"type": "boolean"}}, ["is_valid"]),
        "Renewed": _envelope(ok, {"expiration_time": DATETIME_OUT}, ["expiration_time"]),
        "Ended": _envelope(ok, {"ended": {"type": "integer", "minimum": 0}}, ["ended"]),
        "AttrResult": _envelope(
            ok,
            {
                "found": {"type": "boolean"},
                "name": {"type": "string"},
                "value": {},
                "creation_time": DATETIME_OUT,
                "last_modified": DATETIME_OUT,
                "expiration_time": {"type": ["string", "null"]},
                "is_encrypted": {"type": "boolean"},
                "result": {
                    "description": "get of many: a list of attributes; exists: a boolean, or name → boolean "
                    "for many; names: a list of names"
                },
            },
            [],
        ),
        "DeletionScheduled": _envelope(ok, {"deletion_time": DATETIME_OUT}, ["deletion_time"]),
        "UserExport": {
            "type": "object",
            "description": "Extension: the person's data as a file, not an envelope; its full JSON Schema is "
            "docs/export-schema-v1.json in the project",
            "properties": {
                "format": {"const": "sso-user-export"},
                "version": {"const": 1},
                "user": {"type": "object"},
                "audit": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["format", "version", "user", "audit"],
        },
        "LinkList": _envelope(
            ok,
            {
                "result": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "auth_type": {"type": "string"},
                            "auth_username": {"type": "string"},
                            "user_id": {"type": "string"},
                            "is_active": {"type": "boolean"},
                            "creation_time": DATETIME_OUT,
                            "has_ext_principal": {"type": "boolean"},
                        },
                    },
                }
            },
            ["result"],
        ),
        "RoleRecord": {
            "type": "object",
            "properties": ROLE_PROPERTIES,
            "required": ["name", "description", "permissions"],
            "additionalProperties": False,
        },
        "Role": _envelope(ok, ROLE_PROPERTIES, ["name", "description", "permissions", "holders"]),
        "Roles": _envelope(
            ok,
            {
                "result": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/RoleRecord"},
                    "description": "without `name`: every role",
                },
                **ROLE_PROPERTIES,
            },
            [],
        ),
        "RoleNames": _envelope(
            ok, {"result": {"type": "array", "items": {"type": "string"}, "description": "role names"}}, ["result"]
        ),
        "PasskeyRecord": {
            "type": "object",
            "properties": PASSKEY_PROPERTIES,
            "required": list(PASSKEY_PROPERTIES),
            "additionalProperties": False,
        },
        "Passkey": _envelope(ok, PASSKEY_PROPERTIES, list(PASSKEY_PROPERTIES)),
        "PasskeyList": _envelope(
            ok, {"result": {"type": "array", "items": {"$ref": "#/components/schemas/PasskeyRecord"}}}, ["result"]
        ),
        "PasskeyOptions": _envelope(
            ok,
            {
                "challenge_id": {"type": "string", "description": "send it back with the browser's answer"},
                "options": {
                    "type": "object",
                    "description": "WebAuthn's JSON form of the options: PublicKeyCredential."
                    "parseCreationOptionsFromJSON / parseRequestOptionsFromJSON take it",
                },
            },
            ["challenge_id", "options"],
        ),
        "Terms": _envelope(ok, _TERMS_PROPERTIES, ["version"]),
        "TermsPublished": _envelope(
            ok,
            {**_TERMS_PROPERTIES, "users_asked": {"type": "integer", "minimum": 0}},
            [*_TERMS_PROPERTIES, "users_asked"],
        ),
        "TermsAccepted": _envelope(
            ok, {"accepted": {"type": "boolean", "description": "false: accepted already"}}, ["accepted"]
        ),
        "TermsAcceptances": _envelope(
            ok,
            {
                "result": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "version": {"type": "integer", "minimum": 1},
                            "time": DATETIME_OUT,
                            "remote_addr": {"type": ["string", "null"]},
                        },
                        "required": ["version", "time", "remote_addr"],
                        "additionalProperties": False,
                    },
                }
            },
            ["result"],
        ),
        "EmailSent": _envelope(ok, {"email": {"type": "string"}}, ["email"]),
        "SearchResult": _envelope(
            ok,
            {
                "result": {"type": "array", "items": {"$ref": "#/components/schemas/UserRecord"}},
                "total": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "counted up to 10,000: a broader match answers 10000 and total_is_capped",
                },
                "total_is_capped": {
                    "type": "boolean",
                    "description": "extension: true when more than `total` users match",
                },
                "num_pages": {"type": "integer", "minimum": 1},
                "cur_page": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "description": "null when paging by key (`after`)",
                },
                "page_size": {"type": "integer", "minimum": 0},
                "has_next_page": {"type": "boolean"},
                "has_prev_page": {"type": "boolean"},
                "next_page": {"type": ["integer", "null"]},
                "prev_page": {"type": ["integer", "null"]},
                "next_after": {
                    "type": ["string", "null"],
                    "description": "extension: pass as `after` for the next page by key (stable under inserts)",
                },
            },
            [
                "result",
                "total",
                "total_is_capped",
                "num_pages",
                "cur_page",
                "page_size",
                "has_next_page",
                "has_prev_page",
                "next_page",
                "prev_page",
                "next_after",
            ],
        ),
    }


# A missing required input also carries Zato's own keys (SPEC §14).
ZATO_400 = {"result": {"const": "Error"}, "details": {"const": "Bad request"}}

RESULT_SCHEMAS = {
    "user": "User",
    "ok": "Ok",
    "login": "Login",
    "search": "SearchResult",
    "signup": "Signup",
    "reset_key": "ResetKey",
    "totp": "Totp",
    "session": "Session",
    "sessions": "SessionList",
    "verify": "SessionValidity",
    "renew": "Renewed",
    "ended": "Ended",
    "attr": "AttrResult",
    "links": "LinkList",
    "export": "UserExport",
    "deletion": "DeletionScheduled",
    "roles": "Roles",
    "role": "Role",
    "role_names": "RoleNames",
    "passkeys": "PasskeyList",
    "passkey": "Passkey",
    "passkey_options": "PasskeyOptions",
    "terms": "Terms",
    "terms_published": "TermsPublished",
    "terms_accepted": "TermsAccepted",
    "terms_acceptances": "TermsAcceptances",
    "email_sent": "EmailSent",
}


def _error_response(status: int, codes: tuple[str, ...]) -> dict[str, Any]:
    listed = "; ".join(f"`{code}` {CODE_MEANINGS[code]}" for code in codes)
    sub_status = (
        {"type": "array", "minItems": 1, "items": {"enum": list(codes)}} if codes else {"type": "array", "maxItems": 0}
    )
    headers = (
        {
            "headers": {
                "Retry-After": {
                    "description": "seconds to wait before trying again",
                    "schema": {"type": "integer", "minimum": 1},
                    "required": False,
                }
            }
        }
        if status in (429, 503)
        else {}
    )
    return {
        **headers,
        "description": f"{HTTP_MEANINGS[status]}: {listed}" if codes else HTTP_MEANINGS[status],
        "content": {
            "application/json": {
                "schema": _envelope(
                    {"const": "error"},
                    {
                        "sub_status": sub_status,
                        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                        **(ZATO_400 if status == 400 else {}),
                        **({"required_actions": REQUIRED_ACTIONS_SCHEMA} if Code.actions_required in codes else {}),
                    },
                    ["sub_status", "errors"],
                )
            }
        },
    }


def _body_schema(op: Operation, required: bool) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: op.input_schema(key) for key in op.accepted},
        "required": list(op.required_inputs) if required else [],
        "additionalProperties": False,
    }


def _query_parameters(op: Operation) -> list[dict[str, Any]]:
    return [
        {"name": key, "in": "query", "required": key in op.required_inputs, "schema": op.input_schema(key)}
        for key in op.accepted
        if key not in TOKENS and key != "password" and key not in op.nested
    ]


def operation_object(op: Operation) -> dict[str, Any]:
    """The OpenAPI operation object of `op`."""
    ok: dict[str, Any] = {
        "description": "Success",
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{RESULT_SCHEMAS[op.result]}"}}},
    }
    if op.result == "user":
        ok["headers"] = {
            "ETag": {
                "description": "strong; send it back in If-Match to update only this version",
                "required": True,
                "schema": {"type": "string"},
            }
        }
    doc: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "responses": {
            "200": ok,
            **{str(status): _error_response(status, codes) for status, codes in op.errors.items()},
        },
    }
    if op.method == "GET":
        doc["parameters"] = _query_parameters(op)
        doc["requestBody"] = {
            "required": False,
            "description": "Alternatively, the same inputs as a JSON object "
            "(Zato clients send them so, with no Content-Type).",
            "content": {"application/json": {"schema": _body_schema(op, False)}},
        }
    else:
        doc["requestBody"] = {"required": True, "content": {"application/json": {"schema": _body_schema(op, True)}}}
    if op.if_match:
        doc.setdefault("parameters", []).append(
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": IF_MATCH_SYNTAX},
                "description": "an ETag from GET or PATCH: a stale one answers 412 and writes nothing; one that is not "
                "an entity tag at all answers 400",
            }
        )
    if op.summary.startswith("extension: "):
        doc["x-extension"] = True  # not a Zato endpoint (SPEC §17's roles)
    if op.uses_ust:
        doc["security"] = [{"ust": []}, {"basic": []}, {}]  # or `ust` in the body
    else:
        doc["security"] = []
    return doc


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document (the same for every request, so built once)."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.url, {})[op.method.lower()] = operation_object(op)
    paths[PREFIX + OPENAPI_PATH] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI document", "content": {"application/json": {}}}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SSO user accounts (Zato SSO compatible)",
            "version": "1.0.0",
            "description": "Every answer is one JSON object with `cid` and `status` (`ok`, `warning`, "
            "`error`); errors add `sub_status` (codes) and `errors` (field → message). "
            "Inputs travel in a JSON object body on every method, whatever the Content-Type; "
            "GET also takes them as query parameters typed as JSON would type them (true, false, "
            'null, numbers; quote a string that looks like one: "123"). Unknown keys are '
            "rejected. Read-only attributes: " + ", ".join(READ_ONLY) + ". "
            "Codes (`sub_status`) and the messages in `errors` are always English, whatever the caller's "
            "`locale` or `Accept-Language`: they are for programs (the console shows them translated). "
            "`locale` is a BCP 47 tag from " + ", ".join(LOCALES) + " (null: the browser's language).",
        },
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "basic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "a linked API client: the call acts as the linked user "
                    "and the X-Zato-SSO-UST header answers its UST",
                },
                "ust": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the UST from login; it may instead be sent as `ust` in the "
                    "body (both, and different: 400)",
                },
            },
        },
    }


@lru_cache(maxsize=4)
def document_for(fields: tuple[ProfileField, ...]) -> dict[str, Any]:
    """The document with the live profile fields (SPEC §16): in the user objects, the update's and create's
    bodies and the search's criteria (the searchable ones), so it changes when the definitions change."""
    if not fields:
        return document()
    doc = copy.deepcopy(document())
    schemas = {f.name: profile_field_schema(f) for f in fields}
    for name in ("User", "UserRecord"):
        properties = doc["components"]["schemas"].get(name, {}).get("properties")
        if properties is not None and "user_id" in properties:
            properties.update(copy.deepcopy(schemas))
    for op in OPERATIONS:
        if not op.profile_fields:
            continue
        operation = doc["paths"][op.url][op.method.lower()]
        chosen = {n: s for n, s in schemas.items() if op.name != "search" or _searchable(fields, n)}
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        body["properties"].update(copy.deepcopy(chosen))
        if op.name == "create_user":
            body["required"] += [f.name for f in fields if f.required]
        if op.method == "GET":
            operation["parameters"] += [
                {"name": n, "in": "query", "required": False, "schema": copy.deepcopy(s)} for n, s in chosen.items()
            ]
    return doc


def _searchable(fields: tuple[ProfileField, ...], name: str) -> bool:
    return any(f.name == name and f.searchable for f in fields)


def dumps(document_: dict[str, Any]) -> str:
    """The document as JSON text."""
    return json.dumps(document_, ensure_ascii=True, indent=1)
