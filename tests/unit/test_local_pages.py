"""The local gateway's static pages (infra/local/pages.py): web/preferences/ at /preferences/,
the right content types and security headers, and nothing outside the folder, however asked."""

from __future__ import annotations

import re

import pytest

from infra.local.gateway import handle
from infra.web import CONTENT_SECURITY_POLICY, PAGES_DIR, page_files


def _never(event):
    raise AssertionError("a page request reached the API function")


def _get(path: str, method: str = "GET"):
    return handle(_never, method, path, {}, None)


@pytest.mark.parametrize(
    ("path", "file", "content_type"),
    [
        ("/preferences/", "index.html", "text/html; charset=utf-8"),
        ("/preferences/index.html", "index.html", "text/html; charset=utf-8"),
        ("/preferences/confirm.html", "confirm.html", "text/html; charset=utf-8"),
        ("/preferences/unsubscribe.html?x=1", "unsubscribe.html", "text/html; charset=utf-8"),
        ("/preferences/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/preferences/style.css", "style.css", "text/css; charset=utf-8"),
    ],
)
def test_each_page_file_is_served_with_its_type_and_a_strict_policy(path, file, content_type):
    status, headers, body = _get(path)
    assert status == 200
    assert body == (PAGES_DIR / file).read_bytes()
    assert headers["Content-Type"] == content_type
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert CONTENT_SECURITY_POLICY.startswith("default-src 'self';")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_the_bare_path_redirects_to_the_folder():
    status, headers, _ = _get("/preferences")
    assert (status, headers["Location"]) == (301, "/preferences/")


def test_a_head_is_answered_and_a_write_is_refused():
    assert _get("/preferences/", "HEAD")[0] == 200
    for method in ("POST", "PUT", "DELETE"):
        status, headers, _ = _get("/preferences/index.html", method)
        assert status == 405 and headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    "path",
    [
        "/preferences/../pyproject.toml",
        "/preferences/..%2f..%2fpyproject.toml",
        "/preferences/%2e%2e/%2e%2e/pyproject.toml",
        "/preferences/..%5c..%5cpyproject.toml",
        "/preferences//etc/passwd",
        "/preferences/%2fetc%2fpasswd",
        "/preferences/./index.html",
        "/preferences/sub/",
        "/preferences/nothing.html",
        "/preferences/index.html/",
        "/preferences/index.html%00.css",
        "/preferences/.gitignore",
    ],
)
def test_nothing_outside_the_folder_and_no_listing(path):
    status, headers, body = _get(path)
    assert status == 404, path
    assert b"<" not in body  # no listing, no page
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_only_plain_files_of_known_kinds_are_reachable():
    names = set(page_files())
    assert {"index.html", "confirm.html", "unsubscribe.html", "app.js", "style.css"} <= names
    assert all("/" not in name and not name.startswith(".") for name in names)


def test_the_pages_load_nothing_from_elsewhere():
    """No absolute URL in any page, script or style sheet: the CSP would block it anyway."""
    for name, path in page_files().items():
        text = path.read_text()
        assert "http://" not in text and "https://" not in text, name
        assert not re.search(r"""(src|href|url)\s*[=(]\s*["']?//""", text), name
