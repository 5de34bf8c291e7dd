"""Attachments on the page in a real Chromium: attach a photo from the composer, its text reaches the model,
the sent question shows its thumbnail, also after a reload."""
from __future__ import annotations

import base64

import pytest

from tests.browser.page import SKIPS, choose_model, finished, send  # noqa: F401  (fixtures come from conftest.py)
from tests.browser.page import stub_server, switch_on
from tests.pictures import PHOTO, encode, render

pytestmark = SKIPS


@pytest.fixture(scope="module")
def server(stub):
    with stub_server(stub, "--store", "memory") as s:
        yield s


def test_attach_a_photo_from_the_composer(open_page, tmp_path, stub):
    rec = open_page()
    page = rec.page
    assert page.get_attribute("#attach-file", "accept") == "image/*"
    assert page.get_attribute("#attach-file", "capture") == "environment"  # a phone opens its camera
    photo = tmp_path / "sign.png"
    photo.write_bytes(encode(render(["Visiting hours 10 to 12", "探视时间上午十点到十二点"], paper=PHOTO)))
    choose_model(page, "words-5")
    with page.expect_file_chooser() as chooser:
        page.click("#attach")
    chooser.value.set_files(str(photo))
    page.wait_for_selector("#attach-tray .tray-item img.thumb")
    send(page, "When can I visit?")
    finished(page, 1)
    sent = stub.requests[-1]["messages"][-1]["content"]
    assert sent.startswith("When can I visit?") and "sign.png" in sent and "探视时间" in sent
    assert page.locator("#attach-tray .tray-item").count() == 0  # the tray empties once sent
    thumb = page.locator(".msg.user .attachments img.thumb")
    page.wait_for_function("() => { const i = document.querySelector('.msg.user .attachments img'); return i && "
                           "i.naturalWidth > 0 }")
    assert thumb.get_attribute("alt") == "sign.png"

    # Pasting a picture into the box attaches it too (a desktop's screenshot).
    png = base64.b64encode(encode(render(["Room 204"], paper=PHOTO))).decode()
    page.evaluate("""png => {
        const bytes = Uint8Array.from(atob(png), c => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], 'shot.png', { type: 'image/png' }));
        document.getElementById('input').dispatchEvent(
            new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }""", png)
    page.wait_for_selector("#attach-tray .tray-item img.thumb")

    # After a reload the history's question still shows its picture.
    page.reload()
    page.wait_for_function("() => { const i = document.querySelector('.msg.user .attachments img'); return i && "
                           "i.naturalWidth > 0 }")


def test_a_source_read_from_a_photo_shows_the_photo(open_page, server):
    from tests.kb_files import upload

    status, body = upload(server.url, "lab-notice.png",
                          encode(render(["Goggles must be worn in lab 3", "三号实验室必须佩戴护目镜"], paper=PHOTO)))
    assert status == 200 and body["document"]["ocr"] is True, body
    rec = open_page()
    page = rec.page
    switch_on(page, "#set-knowledge", model="words-5")
    page.fill("#input", "What must be worn in lab 3?")
    page.press("#input", "Enter")
    finished(page, 1)
    page.locator(".msg.assistant .kb-chip").first.click()
    assert "Goggles" in page.locator(".msg.assistant .kb-passage").inner_text()
    page.wait_for_function("() => { const i = document.querySelector('.kb-passage img.kb-picture'); return i && "
                           "i.naturalWidth > 0 }")
