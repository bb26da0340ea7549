"""Reading a request the way Zato clients send it: a JSON object body on every method (whatever the
Content-Type says), query parameters on GET, the UST in the body or an `Authorization: Bearer` header."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from flask import request

from ..sso.kernel.call import Call
from ..sso.kernel.errors import Code, Kind, SSOError
from .operations import CURRENT_APP, NEVER_MATCHES, TOKENS, USER_ID, Operation

CHANNEL = "api"  # what the audit says of a change made through this API
SCALARS = (str, int, float, bool, type(None))
_TAG = r'(W/)?"([\x21\x23-\x7e]*)"'
# If-Match as RFC 9110 writes it (without obsolete non-ASCII text): `*`, or entity tags separated by commas.
# Published in the OpenAPI document.
IF_MATCH_SYNTAX = r"^[ \t]*(?:\*|{tag}(?:[ \t]*,[ \t]*{tag})*)[ \t]*$".format(tag=r'(?:W/)?"[\x21\x23-\x7e]*"')
_OUR_ETAG = re.compile(r"([^:]+):([0-9]{1,18})")


def malformed(field: str, message: str) -> SSOError:
    """A 400: the request cannot be read as this operation's input."""
    return SSOError.single(Kind.malformed, Code.invalid_input, field, message)


@dataclass
class ApiCall:
    """One API call, parsed: the envelope apart from the data the service gets."""

    cid: str
    ust: str | None
    current_app: str
    user_id: str | None  # the target; None is the caller
    data: dict[str, Any]
    remote_addr: str | None
    user_agent: str | None
    if_match: list[tuple[bool, str]] | None  # (weak, tag) pairs; None when absent or `*`

    def as_call(self) -> Call:
        """The service's `Call` for this request (channel `api`)."""
        return Call(self.cid, self.ust, self.current_app, self.remote_addr, CHANNEL, self.user_agent)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key[:64]!r}")
        obj[key] = value
    return obj


def loads(text: str) -> Any:
    """Strict JSON: no NaN or Infinity, no duplicate keys, numbers that fit a float."""
    return json.loads(text, parse_constant=_reject_constant, parse_float=_finite, object_pairs_hook=_unique_keys)


def _flat(key: str, value: Any, lists: tuple[str, ...], known: tuple[str, ...] | None = None) -> bool:
    if isinstance(value, SCALARS):
        return True
    listed = key in lists or (known is not None and key not in known)
    return listed and isinstance(value, list) and all(isinstance(item, SCALARS) for item in value)


def read_body(
    lists: tuple[str, ...] = (), nested: tuple[str, ...] = (), known: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The body as a flat JSON object (`lists` name the keys that may hold a list of single values,
    `nested` those that may hold any JSON: attribute values and `data` lists); no body (zero bytes) is {}, and
    anything else is for the JSON parser to read, whitespace alone included (RFC 8259: a JSON text has a value).
    With `known`, any other key may hold a list of single values too (a `choices` profile field: the service
    knows the fields and rejects the keys that are none)."""
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        body = loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise malformed("body", "must be UTF-8 encoded JSON") from None
    except (ValueError, RecursionError):
        raise malformed("body", "is not valid JSON") from None
    if not isinstance(body, dict):
        raise malformed("body", "must be a JSON object")
    containers = [key for key, value in body.items() if not _flat(key, value, lists, known) and key not in nested]
    if containers:
        raise SSOError(
            Kind.malformed,
            [Code.invalid_input],
            {key[:128]: "must be a single value, not a list or an object" for key in containers},
        )
    return body


def query_value(text: str) -> Any:
    """A query parameter typed as JSON would type it: true, false, null, numbers and "quoted" strings;
    anything else is the text itself."""
    try:
        value = loads(text)
    except (ValueError, RecursionError):
        return text
    return value if isinstance(value, SCALARS) else text


def read_query(op: Operation) -> dict[str, Any]:
    """Query parameters: GET only, each key at most once, never the UST (URLs end up in logs)."""
    if not request.args:
        return {}
    if op.method != "GET":
        raise malformed("query", "parameters are accepted only on GET; send a JSON body")
    params: dict[str, Any] = {}
    for key, values in request.args.lists():
        if key in TOKENS:
            raise malformed(key, "must not be sent in the URL; use the Authorization header or the body")
        if len(values) != 1:
            raise malformed(key[:128], "must be given once")
        params[key] = query_value(values[0])
    return params


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer` header (other schemes are not ours and are ignored)."""
    scheme, *rest = request.headers.get("Authorization", "").split(None, 1) or [""]
    if scheme.lower() != "bearer":
        return None
    token = rest[0].strip() if rest else ""
    if not token or any(char.isspace() for char in token):
        raise malformed("Authorization", "a Bearer header must carry the UST, and only the UST")
    return token


def parse_if_match(header: str | None) -> list[tuple[bool, str]] | None:
    """If-Match as (weak, tag) pairs; None when absent or `*` (any version)."""
    if header is None:
        return None
    if not re.fullmatch(IF_MATCH_SYNTAX, header):
        raise malformed("If-Match", 'must be the ETag this API sent, e.g. "zusr...:3", or *')
    if header.strip() == "*":
        return None
    return [(bool(weak), tag) for weak, tag in re.findall(_TAG, header)]


def expected_version(tags: list[tuple[bool, str]] | None, target_id: str | None) -> int | None:
    """The version If-Match expects of `target_id`; NEVER_MATCHES when no strong tag names that user."""
    if tags is None:
        return None
    versions = set()
    for weak, tag in tags:
        match = _OUR_ETAG.fullmatch(tag)
        if not weak and match and match.group(1) == target_id:
            versions.add(int(match.group(2)))
    if len(versions) > 1:
        raise malformed("If-Match", "names more than one version of this user")
    return versions.pop() if versions else NEVER_MATCHES


def etag(user_id: str, version: int) -> str:
    """The strong ETag of one version of one user."""
    return f'"{user_id}:{version}"'


def _envelope_type_errors(values: dict[str, Any]) -> dict[str, str]:
    """The envelope is the API's own: `ust` and `current_app` are strings, `user_id` a string or null."""
    return {
        key: "must be a string" for key, value in values.items() if value is not None and not isinstance(value, str)
    }


def parse_call(op: Operation, cid: str) -> ApiCall:
    """Everything an operation needs from the request, or the 400/422 that says why not."""
    body = read_body(op.list_inputs, op.nested, op.accepted if op.profile_fields else None)
    query = read_query(op)
    clashes = [key for key in query if key in body and body[key] != query[key]]
    if clashes:
        raise SSOError(
            Kind.malformed,
            [Code.invalid_input],
            {key[:128]: "differs between the query string and the body" for key in clashes},
        )
    data = {**query, **body}

    envelope = {key: data.pop(key, None) for key in op.envelope}
    if envelope[CURRENT_APP] is None:
        raise SSOError.single(Kind.missing, Code.invalid_input, CURRENT_APP, "is required")
    wrong_types = _envelope_type_errors(envelope)
    if wrong_types:
        raise SSOError(Kind.malformed, [Code.invalid_input], wrong_types)
    missing = [key for key in op.required if key not in data]
    if op.target_required and envelope[USER_ID] is None:
        missing.insert(0, USER_ID)
    if missing:
        raise SSOError(Kind.missing, [Code.invalid_input], dict.fromkeys(missing, "is required"))

    ust = envelope.get(op.ust_key)
    header_ust = bearer_token() if op.uses_ust else None
    if ust is not None and header_ust is not None and ust != header_ust:
        raise malformed(op.ust_key, "differs from the UST in the Authorization header")

    token_types = {
        key: "must be a string"
        for key in TOKENS
        if key in data
        and key in op.accepted
        and not isinstance(data[key], str)
        and not (key == "current_ust" and data[key] is None)
    }
    if token_types:
        raise SSOError(Kind.malformed, [Code.invalid_input], token_types)

    if op.api_checks_keys:
        unknown = [key for key in data if key not in op.inputs]
        if unknown:
            raise SSOError(
                Kind.invalid, [Code.invalid_input], {key[:128]: "is not an input of this call" for key in unknown}
            )
    if_match = parse_if_match(request.headers.get("If-Match")) if op.if_match else None
    return ApiCall(
        cid=cid,
        ust=header_ust if ust is None else ust,
        current_app=envelope[CURRENT_APP],
        user_id=envelope.get(USER_ID),
        data=data,
        remote_addr=request.remote_addr,
        user_agent=request.headers.get("User-Agent"),
        if_match=if_match,
    )
