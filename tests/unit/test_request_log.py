"""The local stack's line per API request names the route, never the ids in the path."""

from infra.local.request_log import UNKNOWN_ROUTE, line, route_template


def test_paths_become_their_route_templates():
    assert route_template("GET", "/customers/C-1001/privacy") == "/customers/{customerId}/privacy"
    assert route_template("GET", "/audit/verify") == "/audit/verify"
    assert route_template("DELETE", "/audiences/uploads/ab") == "/audiences/uploads/{uploadId}"
    assert route_template("GET", "/nowhere/C-1001") == UNKNOWN_ROUTE
    text = line("PUT", "/customers/C-1001/consents/newsletter", 200, 12.5, "req-1")
    assert "C-1001" not in text and "newsletter" not in text
    assert text.split() == [
        "api",
        "PUT",
        "/customers/{customerId}/consents/{topic}",
        "200",
        "12.5",
        "ms",
        "req-1",
    ]
