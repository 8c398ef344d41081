"""The deployed distribution's viewer-request function (infra/cdk/pages.py), run in the browser's
JavaScript engine (CloudFront Functions are JavaScript; no Node.js needed): it does for S3
what the local gateway does for itself, folder -> index.html and / -> /preferences/."""

from __future__ import annotations

from typing import Any

import pytest

from infra.cdk.pages import INDEX_FUNCTION

pytestmark = pytest.mark.xdist_group("browser")

RUN = """([code, uri]) => {
  const handler = new Function(code + "; return handler;")();
  return handler({ request: { uri, headers: {}, querystring: {} } });
}"""


@pytest.fixture(scope="module")
def blank(browser: Any) -> Any:
    # about:blank: no page, so no Content-Security-Policy against evaluating the function.
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.mark.parametrize(
    ("uri", "rewritten"),
    [
        ("/preferences/", "/preferences/index.html"),
        ("/preferences/index.html", "/preferences/index.html"),
        ("/preferences/app.js", "/preferences/app.js"),
        ("/preferences/confirm.html", "/preferences/confirm.html"),
    ],
)
def test_a_folder_is_its_index_and_a_file_itself(blank: Any, uri: str, rewritten: str) -> None:
    assert blank.evaluate(RUN, [INDEX_FUNCTION, uri])["uri"] == rewritten


@pytest.mark.parametrize("uri", ["/", "/preferences"])
def test_the_root_and_the_bare_path_redirect_to_the_pages(blank: Any, uri: str) -> None:
    answer = blank.evaluate(RUN, [INDEX_FUNCTION, uri])
    assert answer["statusCode"] == 301
    assert answer["headers"]["location"]["value"] == "/preferences/"
