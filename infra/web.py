"""The preference centre's pages (web/preferences/): where they are, the path they are served at
and the headers they are served with. One definition for the local gateway (infra/local/pages.py)
and for CloudFront (infra/cdk/pages.py), so that what the browser tests check locally is what is
deployed."""

from __future__ import annotations

from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parents[1] / "web" / "preferences"
PAGES_PATH = "/preferences"

# The kinds of file the folder may hold; a file of any other kind is not served.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}

# Everything from the page's own origin, nothing inline, no framing, no plugins; forms and
# <base> cannot point elsewhere. The pages' tokens are in the fragment, which Referrer-Policy
# keeps from ever being passed on in a link's Referer.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
REFERRER_POLICY = "no-referrer"
# Deployed only (CloudFront): a local stack is plain http on 127.0.0.1.
HSTS_SECONDS = 2 * 365 * 24 * 3600

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": REFERRER_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def page_files() -> dict[str, Path]:
    """Name -> file, for the files directly in the folder whose kind may be served: the only
    names a request can reach (no sub-folder, no hidden file, no listing)."""
    return {
        path.name: path
        for path in sorted(PAGES_DIR.iterdir())
        if path.is_file() and not path.name.startswith(".") and path.suffix in CONTENT_TYPES
    }
