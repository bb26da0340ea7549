"""The browser tests' page pool (ui.ContextPool): a kept page comes back to the next test emptied."""

from __future__ import annotations

from .ui import Pages, signed_in


def test_a_kept_page_comes_back_with_no_cookie_storage_other_page_or_changed_viewport(contexts, live):
    user = live.user("pool")
    first = Pages(contexts, live.url)
    page = signed_in(first.new(js=True), user["username"])
    page.evaluate("localStorage.setItem('left', 'behind'); sessionStorage.setItem('left', 'behind')")
    heard: list[str] = []
    first.listen(page, "console", lambda message: heard.append(message.text))
    page.context.new_page()
    page.set_viewport_size({"width": 390, "height": 700})
    page.emulate_media(color_scheme="dark")
    assert page.context.cookies()
    first.close()
    heard_before = list(heard)  # what it heard while its test lasted

    second = Pages(contexts, live.url)
    again = second.new(js=True)
    try:
        assert again is page  # the same options: the kept page, not a new one
        assert again.context.cookies() == []
        assert again.context.pages == [again]
        assert again.viewport_size == {"width": 1280, "height": 900}
        assert again.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") is False
        again.goto("/login")
        assert again.evaluate("[localStorage.getItem('left'), sessionStorage.getItem('left')]") == [None, None]
        again.evaluate("console.log('after')")
        again.goto("/account")
        assert "/login" in again.url  # signed out: the session cookie went with the rest
        # this test's listeners only
        assert again.console == ["log: after"] and heard == heard_before  # type: ignore[attr-defined]
    finally:
        second.close()
    third = Pages(contexts, live.url)
    try:
        assert third.new(js=False) is not page  # other options: another page, though that one is free again
    finally:
        third.close()
