"""A tiny no-JavaScript browser for the Flask test client: read a page's form, fill it in, submit it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str) -> str:
    """The first CSRF token rendered on a page."""
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


@dataclass
class Control:
    tag: str
    type: str
    name: str
    value: str
    checked: bool = False
    attrs: dict = field(default_factory=dict)


@dataclass
class Form:
    """A form as a browser would submit it (successful controls only)."""

    id: str
    action: str
    method: str
    controls: list[Control] = field(default_factory=list)

    def data(self) -> list[tuple[str, str]]:
        pairs = []
        for c in self.controls:
            if not c.name or "disabled" in c.attrs:
                continue
            if c.type in ("checkbox", "radio") and not c.checked:
                continue
            if c.type in ("submit", "button"):
                continue
            pairs.append((c.name, c.value))
        return pairs

    def fill(self, name: str, value: str) -> Form:
        """Type into a text box, or choose a select option."""
        found = [c for c in self.controls if c.name == name and c.type not in ("checkbox", "radio", "hidden")]
        assert found, f"no field {name}"
        found[0].value = value
        return self

    def check(self, name: str, value: str | None = None, on: bool = True) -> Form:
        """Tick (or untick) a checkbox, or choose a radio button by value."""
        found = [
            c
            for c in self.controls
            if c.name == name and c.type in ("checkbox", "radio") and (value is None or c.value == value)
        ]
        assert found, f"no checkbox/radio {name}={value}"
        if found[0].type == "radio":
            for c in self.controls:
                if c.name == name and c.type == "radio":
                    c.checked = False
        found[0].checked = on
        return self

    def value(self, name: str) -> str | None:
        for c in self.controls:
            if c.name == name and (c.type not in ("checkbox", "radio") or c.checked):
                return c.value
        return None

    def submit(self, client, **kwargs):
        return client.open(self.action, method=self.method.upper(), data=MultiDict(self.data()), **kwargs)


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: Control | None = None
        self.option_value: str | None = None
        self.option_selected = False
        self.first_option: str | None = None
        self.textarea: Control | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.current = Form(a.get("id", ""), a.get("action", ""), a.get("method", "get"))
            self.forms.append(self.current)
        elif self.current is None:
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            self.current.controls.append(
                Control("input", kind, a.get("name", ""), a.get("value", ""), "checked" in a, a)
            )
        elif tag == "select":
            self.select = Control("select", "select", a.get("name", ""), "", attrs=a)
            self.first_option = None
            self.current.controls.append(self.select)
        elif tag == "textarea":
            self.textarea = Control("textarea", "textarea", a.get("name", ""), "", attrs=a)
            self.current.controls.append(self.textarea)
        elif tag == "option" and self.select is not None:
            value = a.get("value", "")
            if self.first_option is None:
                self.first_option = value
                self.select.value = value
            if "selected" in a:
                self.select.value = value

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.value += data.removeprefix("\n") if not self.textarea.value else data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def all_forms(html: str) -> list[Form]:
    """Every form on the page, in order (bench/run.py reads pages with this too: one form parser)."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def forms(html: str) -> dict[str, Form]:
    """Every form on the page, by id."""
    return {form.id: form for form in all_forms(html)}


def login_form(html: str, username: str, password: str) -> Form:
    """The login page's form (its CSRF token included) filled in for `username` and `password`."""
    return forms(html)["login-form"].fill("username", username).fill("password", password)


def form(client, path: str, form_id: str) -> Form:
    """GET `path` and return its form `form_id`."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    found = forms(response.get_data(as_text=True))
    assert form_id in found, f"no form #{form_id} on {path}: {list(found)}"
    return found[form_id]


def text(response) -> str:
    return response.get_data(as_text=True)


def element(html: str, element_id: str) -> str:
    """The opening tag and text up to the next tag of the element with `element_id` (rough, for asserts)."""
    match = re.search(r'<[^>]*\bid="' + re.escape(element_id) + r'"[^>]*>[^<]*', html)
    assert match, f"no #{element_id}"
    return match.group(0)
