"""Settings > Manage > Activity and usage in a real Chromium: the audit log, its filter, and the usage chart (#36)."""
from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api")

from tests.browser.page import SKIPS, finished, send, stub_server  # noqa: E402
from tests.kb_files import upload  # noqa: E402

pytestmark = SKIPS
ADMIN = "adm1n-activity-S3CRET"


@pytest.fixture(scope="module")
def server(stub):
    with stub_server(stub, "--store", "memory", "--embed-model", "none", "--admin-token", ADMIN) as s:
        yield s


def test_the_admin_reads_who_changed_what_and_each_days_tokens(open_page, server):
    status, body = upload(server.url, "rota.txt", b"The night shift starts at 22:00.", headers={"X-Admin-Token": ADMIN})
    assert status == 200, body
    page = open_page().page
    send(page, "hello")
    finished(page, 1)
    page.click("#open-settings")
    assert not page.is_visible("#activity")  # not for a device that may not manage the server
    page.fill("#admin-input", ADMIN)
    page.click("#admin-unlock")
    page.wait_for_selector("#manage-status:has-text('may now manage the server')")
    page.click("#activity summary")
    page.wait_for_selector(".audit-entry:has-text('kb.add')")
    line = page.inner_text(".audit-entry >> nth=0")
    assert "kb.add" in line and "rota" in line and "admin" in line and "127.0.0.1" in line
    page.wait_for_selector("#usage-chart .uplot canvas")
    assert "1 device(s) chatted today" in page.inner_text("#activity-note")

    # The page's own admin request is logged with this device's short hash, never its id.
    page.evaluate("""async () => {
      const r = window.__chat.role
      const form = new FormData(); form.append('file', new Blob(['Lunch is at noon.']), 'lunch.txt')
      await fetch('/api/kb/documents', { method: 'POST', body: form, headers: r.headers() })
    }""")
    page.select_option("#audit-action", "kb.add")
    page.wait_for_selector(".audit-entry:has-text('lunch')")
    assert "device " in page.inner_text(".audit-entry >> nth=0")
    client_id = page.evaluate("() => window.__chat.core.state.clientId")
    assert client_id not in page.inner_text("#audit-list")
    page.select_option("#audit-action", "tuning.cancel")
    page.wait_for_selector(".audit-entry:has-text('Nothing logged yet')")
