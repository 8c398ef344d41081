"""The preference centre's pages in headless Chromium against a local stack (issue 19): what a
customer does, from asking for a link to unsubscribing from everything, each link opened from
the outbox as the customer would open it from their e-mail; the one-click page that a GET never
acts on; GPC; a lite sign-up; keyboard only; 200 % zoom. The `visit` fixture checks, after each
test, that no request went to any origin but the stack's."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, Stack

# One stack and one browser for the session: every browser test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("browser")

SCREENSHOT = ARTIFACTS / "preference-centre.png"
SIGNED_UP = "the subscription starts when you confirm it"
SENT = "If this address is one we send messages to, a link to your subscriptions is on its way"


def _row(page: Any, name: str) -> Any:
    """The list item of one topic and channel, e.g. "Newsletter by e-mail" (brand-less)."""
    return page.locator("li.topic").filter(
        has=page.locator("p.topic-name", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def _general(page: Any, name: str) -> Any:
    return (
        page.locator("#groups ul")
        .first.locator("li.topic")
        .filter(has=page.locator("p.topic-name", has_text=re.compile(f"^{re.escape(name)}$")))
    )


def _ask_for_a_link(page: Any, stack: Stack, email: str) -> None:
    page.goto(f"{stack.url}/preferences/")
    page.locator("#link-form").get_by_label("Your e-mail address").fill(email)
    with page.expect_response(f"{stack.url}/public/preferences/link") as sent:
        page.get_by_role("button", name="Send me a link").click()
    assert sent.value.status == 202
    expect(page.get_by_role("status")).to_contain_text(SENT)


def test_a_customer_asks_for_a_link_changes_topics_and_unsubscribes_from_everything(
    visit, stack: Stack
):
    page = visit().page()
    # The same answer for an address nobody has: the page reveals nothing.
    _ask_for_a_link(page, stack, f"nobody-{uuid.uuid4().hex[:8]}@example.com")
    _ask_for_a_link(page, stack, "avery.lindqvist@example.com")
    link = stack.last_message("PreferenceLinkRequested", customerId="C-1001")["link"]
    assert link.startswith(f"{stack.url}/preferences/#token=")

    page.goto(link)
    expect(page.get_by_role("heading", name="Your subscriptions")).to_be_visible()
    groups = page.locator("#groups h3")
    expect(groups).to_have_text(["General", "Northwind"])
    newsletter = _general(page, "Newsletter by e-mail")
    expect(newsletter.locator(".topic-state")).to_contain_text("Subscribed")

    # Out at once.
    page.get_by_role("button", name="Unsubscribe from Newsletter by e-mail", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Newsletter by e-mail: Unsubscribed")
    expect(newsletter.locator(".topic-state")).to_contain_text("Unsubscribed")
    expect(newsletter.locator(".topic-state")).to_contain_text("by you, on this page")
    assert stack.states("C-1001")[(None, "newsletter", "email")] == "REVOKED"

    # In: pending until the customer confirms from the e-mail.
    offers = _general(page, "Offers by e-mail")
    expect(offers.locator(".topic-state")).to_have_text("Not subscribed")
    page.get_by_role("button", name="Subscribe to Offers by e-mail", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("pending confirmation — check your e-mail")
    expect(offers.locator(".topic-state")).to_contain_text("Pending confirmation")

    confirmation = stack.last_message(
        "ConsentConfirmationRequested", customerId="C-1001", topic="offers", channel="email"
    )
    assert confirmation["link"].startswith(f"{stack.url}/preferences/confirm.html#token=")
    confirm = visit().page()
    confirm.goto(confirmation["link"])
    confirm.get_by_role("button", name="Confirm my subscription").click()
    expect(confirm.get_by_role("status")).to_contain_text("is confirmed")
    assert stack.states("C-1001")[(None, "offers", "email")] == "GRANTED"

    page.reload()
    expect(_general(page, "Offers by e-mail").locator(".topic-state")).to_contain_text(
        "Subscribed · last changed"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    print(f"screenshot of the preference centre: {SCREENSHOT}")

    page.get_by_role("button", name="Unsubscribe from everything").click()
    expect(page.get_by_role("status")).to_contain_text("You are unsubscribed from everything")
    states = page.locator(".topic-state")
    expect(states.first).to_be_visible()
    for text in states.all_inner_texts():
        assert not text.startswith(("Subscribed", "Pending")), text
    assert not {s for s in stack.states("C-1001").values()} & {"GRANTED", "PENDING"}


def test_opening_the_list_unsubscribe_url_shows_a_page_and_only_its_button_acts(
    visit, stack: Stack
):
    headers = stack.call("POST", "/customers/C-1004/unsubscribe-link", {"topic": "newsletter"})
    url = headers["listUnsubscribe"].strip("<>")
    assert stack.states("C-1004")[(None, "newsletter", "email")] == "GRANTED"
    page = visit().page()
    page.goto(url)  # what a mail scanner, or the customer clicking the link, does
    assert page.url.startswith(f"{stack.url}/preferences/unsubscribe.html#token=")
    expect(page.get_by_role("button", name="Unsubscribe")).to_be_visible()
    assert stack.states("C-1004")[(None, "newsletter", "email")] == "GRANTED"
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("status")).to_contain_text("You are unsubscribed")
    assert stack.states("C-1004")[(None, "newsletter", "email")] == "REVOKED"


def test_the_gpc_signal_is_honoured_and_said_so(visit, stack: Stack):
    token = stack.preference_token("C-1002")
    page = visit(extra_http_headers={"Sec-GPC": "1"}).page()
    page.goto(f"{stack.url}/preferences/#token={token}")
    expect(page.get_by_text("Opt-out preference signal honored").first).to_be_visible()
    assert stack.states("C-1002")[(None, "offers", "email")] == "REVOKED"


def test_without_the_signal_the_page_says_nothing_of_it(visit, stack: Stack):
    token = stack.preference_token("C-1005")
    page = visit().page()
    page.goto(f"{stack.url}/preferences/#token={token}")
    expect(page.get_by_role("heading", name="Your subscriptions")).to_be_visible()
    expect(page.locator("#gpc")).to_be_hidden()


def test_a_new_person_signs_up_and_confirms_from_the_outbox(visit, stack: Stack):
    email = f"new-{uuid.uuid4().hex[:10]}@example.com"
    page = visit().page()
    page.goto(f"{stack.url}/preferences/")
    form = page.locator("#signup-form")
    form.get_by_label("Your e-mail address").fill(email)
    form.get_by_label("Newsletter from Northwind").check()
    form.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("status")).to_contain_text(SIGNED_UP)
    sent = stack.last_message("SignUpConfirmationRequested", email=email)
    assert sent["detail"]["topic"] == "newsletter" and sent["detail"].get("brand") == "northwind"
    assert sent["link"].startswith(f"{stack.url}/preferences/confirm.html#signup=")
    page.goto(sent["link"])
    page.get_by_role("button", name="Confirm my sign-up").click()
    expect(page.get_by_role("status")).to_contain_text("is confirmed")


def test_a_link_that_no_longer_works_says_so_and_offers_a_new_one(visit, stack: Stack):
    page = visit().page()
    page.goto(f"{stack.url}/preferences/#token=v1.{'A' * 40}.{'B' * 43}")
    expect(page.get_by_role("status")).to_contain_text("not valid or has expired")
    expect(page.get_by_role("button", name="Send me a link")).to_be_visible()
    expect(page.locator("#preferences")).to_be_hidden()


def _focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id || document.activeElement.textContent"))


def _tab_to(page: Any, target: str, limit: int = 30) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page) == target:
            return
    raise AssertionError(f"Tab never reached {target}")


def test_the_forms_work_with_the_keyboard_alone(visit, stack: Stack):
    page = visit().page()
    page.goto(f"{stack.url}/preferences/")
    # The sign-up's choices are in (the Tab order is final).
    expect(page.locator("#signup-topics-loading")).to_have_count(0)
    _tab_to(page, "link-email")
    page.keyboard.type("ella.l@example.com")
    page.keyboard.press("Tab")
    assert _focused(page) == "Send me a link"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(SENT)
    link = stack.last_message("PreferenceLinkRequested", customerId="C-1004")["link"]

    # The sign-up form: the address, then the topics (Tab lands on the chosen one; Space picks
    # the one with focus), then Enter on the button.
    _tab_to(page, "signup-email")
    email = f"keys-{uuid.uuid4().hex[:10]}@example.com"
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert _focused(page) == "signup-choice-0"
    page.keyboard.press("Space")
    assert page.locator("#signup-choice-0").is_checked()
    _tab_to(page, "Sign up")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(SIGNED_UP)
    assert stack.last_message("SignUpConfirmationRequested", email=email)["detail"]["topic"]

    page.goto(link)
    expect(page.get_by_role("heading", name="Your subscriptions")).to_be_visible()
    # The first topic's button, by Tab; Space presses it.
    first = page.locator("li.topic button").first
    label = first.get_attribute("aria-label")
    _tab_to(page, first.inner_text())
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == label
    page.keyboard.press("Space")
    expect(page.get_by_role("status")).not_to_be_empty()
    expect(page.get_by_role("status")).not_to_contain_text("wrong")
    # Focus stays on the topic's (new) button, so the next key press is where the person was.
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"


def test_at_200_percent_zoom_every_control_fits_without_scrolling_sideways(visit, stack: Stack):
    token = stack.preference_token("C-1006")
    context = visit(viewport={"width": 640, "height": 900})
    unread = "x" * 40  # the confirm and unsubscribe pages show their button before any request
    pages = (
        "/preferences/",
        f"/preferences/#token={token}",
        f"/preferences/confirm.html#token={unread}",
        f"/preferences/unsubscribe.html#token={unread}",
    )
    for path in pages:
        page = context.page()
        page.goto(stack.url + path)
        page.wait_for_load_state("networkidle")
        # 200 % zoom of a 640 px window: the layout gets 320 CSS pixels (WCAG 1.4.10 reflow).
        page.evaluate("document.documentElement.style.zoom = '2'")
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], (path, widths)
        controls = page.locator("main button:visible, main input:visible, main label:visible")
        assert controls.count() > 0, path
        for box in (controls.nth(i).bounding_box() for i in range(controls.count())):
            assert box is not None and box["width"] > 0 and box["height"] > 0, path
            assert box["x"] >= 0 and box["x"] + box["width"] <= 640 + 0.5, (path, box)
        page.close()
