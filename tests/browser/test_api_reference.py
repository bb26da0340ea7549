"""The JSON API reference (Swagger UI from static/vendor) renders in Chromium under the console's CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.parametrize("live", ["sqlite"], indirect=True)


def test_the_api_reference_lists_the_operations_without_breaking_the_content_security_policy(pages):
    page = pages.new()
    problems: list[str] = []
    pages.listen(page, "pageerror", lambda error: problems.append(str(error)))
    outside: list[str] = []
    pages.listen(
        page,
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith(pages.base_url) and not request.url.startswith("data:")
            else None
        ),
    )

    page.goto("/login")
    page.get_by_role("link", name="JSON API reference").click()
    expect(page).to_have_url(pages.base_url + "/api/reference")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("SSO")
    expect(page.locator(".opblock-summary-path", has_text="/zato/sso/user/login").first).to_be_visible()
    expect(page.locator(".opblock-summary-method", has_text="PATCH").first).to_be_visible()
    problems += [message.removeprefix("error: ") for message in page.console if message.startswith("error: ")]
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not problems, problems
    assert not outside, f"the reference fetched from elsewhere: {outside}"
