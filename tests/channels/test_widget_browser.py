"""The agent widget in a real browser: Debian's headless Chromium driven by Selenium, against
the real servers. Writes test-artifacts/widget-card.png (the finished SOP card)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List

import pytest
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from testkit.assistant import Servers
from testkit.browser import chromium

pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
XSS = "<img src=x onerror=alert(1)>"
PANEL_WIDTH = 360


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with chromium(PANEL_WIDTH) as driver:
        yield driver


class Widget:
    def __init__(self, driver: WebDriver, url: str) -> None:
        self.driver = driver
        self.url = url

    def open(self) -> None:
        self.driver.get(self.url)
        self.wait_ready()

    def wait_ready(self) -> None:
        WebDriverWait(self.driver, 30).until(
            lambda d: d.find_element(By.ID, "log").get_attribute("data-ready") == "true"
        )

    def rows(self) -> List[WebElement]:
        """The agent's and the bot's messages (not the page's own notes)."""
        return self.driver.find_elements(By.CSS_SELECTOR, "#log .msg.user, #log .msg.bot")

    def wait_answer(self, before: int) -> None:
        """Waits until the agent's message and at least one answer are in the log."""
        try:
            WebDriverWait(self.driver, 90).until(
                lambda d: (
                    d.find_element(By.ID, "log").get_attribute("aria-busy") == "false"
                    and len(self.rows()) >= before + 2
                )
            )
        except TimeoutException:
            raise AssertionError(f"no answer; log: {self.log_text()}") from None

    def type(self, text: str) -> None:
        before = len(self.rows())
        box = self.driver.find_element(By.ID, "input")
        box.click()
        box.send_keys(text)
        box.send_keys(Keys.ENTER)  # Enter sends
        self.wait_answer(before)

    def choose_with_keyboard(self, title: str) -> None:
        """From the message box: Shift+Tab to the latest quick replies, arrows to ``title``,
        Enter."""
        before = len(self.rows())
        box = self.driver.find_element(By.ID, "input")
        box.click()
        box.send_keys(Keys.SHIFT, Keys.TAB)
        for _ in range(6):
            active = self.driver.switch_to.active_element
            if active.tag_name == "button" and active.text == title:
                break
            active.send_keys(Keys.ARROW_LEFT)
        active = self.driver.switch_to.active_element
        assert active.text == title, f"keyboard reached {active.text!r}, not {title!r}"
        active.send_keys(Keys.ENTER)
        self.wait_answer(before)

    def click_choice(self, title: str) -> None:
        before = len(self.rows())
        groups = self.driver.find_elements(By.CSS_SELECTOR, "#log .quick")
        assert groups, self.log_text()
        buttons = [b for b in groups[-1].find_elements(By.TAG_NAME, "button") if b.text == title]
        assert buttons and buttons[0].is_enabled(), self.log_text()
        buttons[0].click()
        self.wait_answer(before)

    def log_text(self) -> str:
        return str(self.driver.find_element(By.ID, "log").text)

    def last_card(self) -> WebElement:
        cards = self.driver.find_elements(By.CSS_SELECTOR, "#log .card")
        assert cards, self.log_text()
        return cards[-1]


def test_widget_case_to_ticket_card_copy_reload_and_escaping(
    channel_servers: Servers, browser: WebDriver
) -> None:
    widget = Widget(browser, f"{channel_servers.base_url}/webhooks/widget/")
    widget.open()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "id"
    assert browser.find_element(By.ID, "input").get_attribute("placeholder") == (
        "Ketik kasus pelanggan…"
    )
    sender = browser.execute_script("return localStorage.getItem('asistenSop.sender')")
    assert sender and sender.startswith("w-")

    widget.type("pelanggan isi pulsa 50rb via gopay di mytelkomsel tp blm masuk")
    assert "MSISDN" in widget.log_text()
    widget.type("0812-3456-7890")

    # reload in the middle of the form: the conversation is shown again and continues
    rows_before = len(widget.rows())
    browser.refresh()
    widget.wait_ready()
    assert browser.execute_script("return localStorage.getItem('asistenSop.sender')") == sender
    assert len(widget.rows()) == rows_before
    assert "0812-3456-7890" in widget.log_text()
    widget.type("kemarin jam 3 sore")
    widget.type("TRX20261121ABC")

    # the check questions, answered with the quick-reply buttons (keyboard and mouse)
    widget.choose_with_keyboard("Tidak")
    widget.click_choice("Tidak")
    widget.click_choice("Tidak")
    widget.choose_with_keyboard("Ya")

    card = widget.last_card()
    assert card.find_element(By.TAG_NAME, "h2").text.startswith("Hasil SOP")
    steps = card.find_elements(By.CSS_SELECTOR, ".checklist input[type=checkbox]")
    assert steps, "steps are not a checklist"
    ticket = card.find_element(By.CSS_SELECTOR, "pre.ticket-text").text
    assert "MSISDN: 081234567890" in ticket
    assert "Transaksi ID: TRX20261121ABC" in ticket
    assert "SLA 1x24 jam" in card.text

    # copy the ticket (clipboard permission granted so the test can read it back)
    try:
        browser.execute_cdp_cmd(
            "Browser.grantPermissions",
            {
                "origin": channel_servers.base_url,
                "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
            },
        )
        granted = True
    except Exception:  # a Chromium without these permissions: the status still tells
        granted = False
    copy = card.find_element(By.XPATH, ".//button[normalize-space()='Salin tiket']")
    copy.click()
    status = card.find_element(By.CSS_SELECTOR, ".copy-status")
    WebDriverWait(browser, 10).until(lambda d: status.text != "")
    assert status.text == "Tersalin"
    clipboard = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, () => done(null));"
    )
    if granted:
        assert clipboard is not None and clipboard.strip() == ticket.strip()

    # readable in a 360 px side panel: nothing wider than the window
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    ), "horizontal scrolling at 360 px"

    ARTIFACTS.mkdir(exist_ok=True)
    browser.set_window_size(PANEL_WIDTH, 2400)
    browser.execute_script("arguments[0].scrollIntoView(true);", card)
    card.screenshot(str(ARTIFACTS / "widget-card.png"))
    assert (ARTIFACTS / "widget-card.png").stat().st_size > 5000
    browser.set_window_size(PANEL_WIDTH, 900)

    # a step can be ticked with the keyboard
    first_step = steps[0]
    first_step.send_keys(Keys.SPACE)
    assert first_step.is_selected()

    # markup typed by the agent is shown as text, never run
    widget.type(XSS)
    bubbles = browser.find_elements(By.CSS_SELECTOR, "#log .msg.user .bubble")
    assert bubbles[-1].text == XSS
    assert browser.find_elements(By.CSS_SELECTOR, "#log img") == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018

    # after a reload the finished card and the escaped text come back from the history
    browser.refresh()
    widget.wait_ready()
    card = widget.last_card()
    assert "MSISDN: 081234567890" in card.find_element(By.CSS_SELECTOR, "pre.ticket-text").text
    assert XSS in widget.log_text()
    assert browser.find_elements(By.CSS_SELECTOR, "#log img") == []
    user_texts = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#log .msg.user .bubble")]
    assert "Tidak" in user_texts and "Ya" in user_texts  # button titles, not payloads
    assert not any(t.startswith("/") for t in user_texts)

    # no script error, no blocked resource (CSP) and nothing loaded from outside
    errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert errors == [], errors
