"""Scheduled delivery in a real browser: an owner subscribes by email and webhook, keeps the secret, sends now.

A live server runs the project; headless Chromium fills the portal's form;
the report is computed by django-q2's task code in the server's process
(``q_sync``); a real SMTP server and a real HTTP receiver get what is sent,
and the receiver checks the signature with the secret the page showed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytest_django.live_server_helper import LiveServer
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from subscriptions.models import Subscription
from tests.browser.test_portal import log_in
from tests.browser.test_report_pages import text, wait_for_title
from tests.portal.conftest import PASSWORD
from tests.subscriptions.conftest import (  # noqa: F401  (fixtures)
    Owners,
    SmtpServer,
    WebhookReceiver,
    owners,
    q_sync,
    signature_valid,
    smtp_server,
    webhook_receiver,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, databases=["default", "reader"]),
    pytest.mark.usefixtures("q_sync"),
]


def test_an_owner_subscribes_copies_the_secret_and_sends_the_report_now(
    browser: webdriver.Chrome,
    live_server: LiveServer,
    owners: Owners,  # noqa: F811
    smtp_server: SmtpServer,  # noqa: F811
    webhook_receiver: WebhookReceiver,  # noqa: F811
    screenshot: Callable[[str], None],
) -> None:
    owners.alice.set_password(PASSWORD)
    owners.alice.save()
    log_in(browser, live_server, "alice")
    wait_for_title(browser, "Alpha Pizza")

    browser.find_element(By.LINK_TEXT, "Scheduled delivery").click()
    wait_for_title(browser, "Scheduled delivery of alpha")
    assert text(browser, "#no-subscription") == "No subscription yet."
    Select(browser.find_element(By.ID, "id_cadence")).select_by_value("daily")
    Select(browser.find_element(By.ID, "id_send_hour")).select_by_visible_text("07:00")
    browser.find_element(By.ID, "id_email_to").send_keys("ops@alpha.example")
    browser.find_element(By.ID, "id_webhook_url").send_keys(webhook_receiver.url)
    screenshot("portal-subscription-form")
    browser.find_element(By.ID, "new-subscription-submit").click()

    wait_for_title(browser, "Daily report of alpha")
    secret = text(browser, "#webhook-secret")
    assert secret == Subscription.objects.get().webhook_secret
    send_now = browser.find_element(By.ID, "send-now")
    send_now.click()

    # The page after the send has the same title: wait for the old one to go first.
    WebDriverWait(browser, 30).until(expected_conditions.staleness_of(send_now))
    wait_for_title(browser, "Daily report of alpha")
    screenshot("portal-subscription-delivered")
    statuses = [row.get_attribute("data-status") for row in browser.find_elements(By.CSS_SELECTOR, ".delivery-row")]
    assert statuses == ["delivered", "delivered"]
    assert browser.find_elements(By.ID, "webhook-secret") == []  # shown once
    assert smtp_server.recipients() == ["ops@alpha.example"]
    [received] = webhook_receiver.received
    assert signature_valid(secret, received.headers, received.body) == [True]
