"""A profile field's `scim_path` on the console's profile-field form (SPEC §16, §21): an unknown or duplicate
path is refused on the form, naming the field; a good one is stored as RFC 7643 writes it."""

from __future__ import annotations

from .html_forms import form, text

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def test_a_bad_scim_path_is_refused_on_the_form_naming_the_field(admin_client, sso):
    client, _ = admin_client
    new = form(client, "/profile-fields/new", "profile-field-form")
    new.fill("name", "department").fill("label", "Department").fill("scim_path", "urn:example:dept")
    answer = new.submit(client)
    assert answer.status_code == 422
    assert "(field &#39;department&#39;) is no SCIM attribute this service maps" in text(answer)
    new = form(client, "/profile-fields/new", "profile-field-form")
    new.fill("name", "department").fill("label", "Department").fill("scim_path", f"{ENTERPRISE}:DEPARTMENT")
    assert new.submit(client).status_code == 303
    assert 'id="field-row-department"' in text(client.get("/profile-fields"))
    other = form(client, "/profile-fields/new", "profile-field-form")
    other.fill("name", "unit").fill("label", "Unit").fill("scim_path", f"{ENTERPRISE}:department")
    answer = other.submit(client)
    assert answer.status_code == 422
    assert "is already the SCIM path of the profile field &#39;department&#39;" in text(answer)
    assert [f["scim_path"] for f in sso.operator.export_profile_schema()] == [f"{ENTERPRISE}:department"]
