"""Static files are named by their contents (`?v=`), and only a request for the current contents is kept."""

from __future__ import annotations

import hashlib
import re

from webapp import ROOT
from webapp.static_files import CACHED


def test_every_static_link_of_a_page_names_the_digest_of_the_file_and_that_address_is_kept_a_year(client):
    page = client.get("/login").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]+)"', page)
    assert len(links) >= 8, links  # the favicon, the style sheet, htmx and the console's scripts
    assert not re.search(r'(?:href|src)="/static/[^"?]+"', page), "a static link without its digest"
    for path, version in links:
        contents = (ROOT / path.lstrip("/")).read_bytes()
        assert version == hashlib.sha256(contents).hexdigest()[:16], path
        answer = client.get(f"{path}?v={version}")
        assert answer.status_code == 200 and answer.data == contents, path
        assert answer.headers["Cache-Control"] == CACHED, path


def test_an_address_without_the_current_digest_is_answered_but_revalidated(client):
    for address in ("/static/js/console.js", "/static/js/console.js?v=0123456789abcdef"):
        answer = client.get(address)
        assert answer.status_code == 200, address
        assert answer.headers["Cache-Control"] == "no-cache", address


def test_a_missing_file_or_a_path_out_of_the_folder_is_a_404_and_never_cached(client):
    for address in ("/static/js/nothing-here.js?v=1", "/static/../webapp/db.py?v=1", "/static/%2e%2e/wsgi.py"):
        answer = client.get(address)
        assert answer.status_code == 404, address
        assert answer.headers.get("Cache-Control") != CACHED, address
