"""The local gateway's static files: web/preferences/ at /preferences/, as CloudFront serves
them deployed (infra/cdk/pages.py), with the same security headers (infra/web.py).

A request names a file by its exact name in the folder's own listing, so no path, encoded or
not, can leave the folder, and a folder is never listed. GET and HEAD only."""

from __future__ import annotations

from urllib.parse import unquote

from infra.web import CONTENT_TYPES, PAGES_PATH, SECURITY_HEADERS, page_files

Answer = tuple[int, dict[str, str], bytes]
INDEX = "index.html"


def is_page_path(path: str) -> bool:
    return path == PAGES_PATH or path.startswith(PAGES_PATH + "/")


def _plain(status: int, text: str, extra: dict[str, str] | None = None) -> Answer:
    headers = {**SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8", **(extra or {})}
    return status, headers, text.encode()


def serve(method: str, path: str) -> Answer:
    """`path`: the request's path as sent (percent-encoded; no query)."""
    if method not in ("GET", "HEAD"):
        return _plain(405, "method not allowed\n", {"Allow": "GET, HEAD"})
    if path == PAGES_PATH:
        # The pages' relative links need the trailing slash. A redirect keeps the fragment.
        return _plain(301, "moved\n", {"Location": PAGES_PATH + "/"})
    name = unquote(path.removeprefix(PAGES_PATH + "/")) or INDEX
    file = page_files().get(name)
    if file is None:
        return _plain(404, "not found\n")
    headers = {
        **SECURITY_HEADERS,
        "Content-Type": CONTENT_TYPES[file.suffix],
        # Always revalidated: a page and its script must never be of different versions.
        "Cache-Control": "no-cache",
    }
    return 200, headers, file.read_bytes()
