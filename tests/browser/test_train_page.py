"""The Train sheet in a real Chromium on the tiny model: locked until unlocked, a file's preview, a job's live loss
curve to done, then a chat with the tuned model."""
from __future__ import annotations

import os

import pytest

pytest.importorskip("playwright.sync_api")

from tests.browser.page import SKIPS, finished, send, session_of, tab_of  # noqa: E402
from tests.live import LiveServer, http_json  # noqa: E402
from tests.tinymodel import build  # noqa: E402

pytestmark = SKIPS
ADMIN = "adm1n-train-S3CRET"
NAME = "rooms-tuned"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model = build(str(tmp_path_factory.mktemp("tiny-train-page") / "tiny"), endless=True)
    s = LiveServer("--backend", "local", "--model", model, "--admin-token", ADMIN, "--store", "memory",
                   "--data-dir", str(tmp_path_factory.mktemp("train-page-data")),
                   "--rate-per-minute", "0", "--rate-per-minute-ip", "0").start(timeout=180)
    yield s
    s.stop()


def open_train(page):
    page.click("#open-settings")
    page.click("#open-train")
    page.wait_for_selector("#train[open]")


def test_train_sheet_is_locked_until_the_admin_token_is_given(open_page):
    page = open_page().page
    open_train(page)
    page.wait_for_function("() => window.__chat.role.known")
    assert page.is_disabled("#train-pick") and page.is_disabled("#train-start") and page.is_disabled("#train-name")
    assert page.is_hidden("#train-chat")  # "Train on this chat" is for an admin device only
    assert "Manage this server" in page.inner_text("#train-locked")
    assert page.locator(".train-job").count() == 0
    # Every setting says what it means and its default.
    assert "Default: 0.001" in page.inner_text("#train-learning_rate-note")
    assert "Default: 16" in page.inner_text("#train-lora_r-note")


def unlock(page):
    """Settings open, short replies (the tiny model never ends one by itself), this device unlocked as admin."""
    page.click("#open-settings")
    page.fill("#set-max_tokens", "6")
    page.fill("#admin-input", ADMIN)
    page.click("#admin-unlock")
    page.wait_for_selector("#manage-status:has-text('may now manage the server')")


def test_upload_preview_train_watch_the_curve_then_chat_with_it(open_page, server, tmp_path):
    rec = open_page()
    page = rec.page
    unlock(page)
    page.click("#open-train")
    page.wait_for_selector("#train[open]")
    assert page.is_enabled("#train-pick") and page.is_hidden("#train-locked")

    bad = tmp_path / "broken.csv"
    bad.write_text("question,answer\nWhat is the code of room 1?,Room 1 has code 7.\nno answer here\n")
    page.set_input_files("#train-file", str(bad))
    page.wait_for_selector("#train-preview.bad .train-bad li")
    assert page.inner_text("#train-preview .train-bad li").startswith("line 3:")
    rec.errors[:] = [e for e in rec.errors if "status of 400" not in e]  # Chromium logs the refused preview

    good = tmp_path / "rooms.csv"
    good.write_text("question,answer\n" + "".join(f"What is the code of room {i}?,Room {i} has code {i * 7}.\n"
                                                  for i in range(12)))
    page.set_input_files("#train-file", str(good))
    page.wait_for_selector("#train-preview:not(.bad) .train-examples li")
    assert "12 examples" in page.inner_text("#train-preview .train-summary")
    assert page.locator(".train-examples li").first.inner_text().split("\n") == [
        "What is the code of room 0?", "Room 0 has code 0."]
    page.fill("#train-name", NAME)
    page.fill("#train-epochs", "10")
    page.fill("#train-learning_rate", "0.01")
    page.fill("#train-eval_fraction", "0.25")
    page.click("#train-start")
    job = page.locator(f".train-job:has(.train-job-name:text-is('{NAME}'))")
    job.wait_for()

    # The curve grows from `tuning_progress` while it trains, then the job reaches done.
    page.wait_for_function("() => (window.__chat.train.plot?.data[1] || []).filter((v) => v !== null).length > 1",
                           timeout=600_000)
    page.wait_for_selector(f".train-job[data-status=done]:has(.train-job-name:text-is('{NAME}'))", timeout=600_000)
    series = page.evaluate("() => window.__chat.train.plot.data.map((s) => s.filter((v) => v !== null).length)")
    steps = page.evaluate(f"() => window.__chat.train.jobs.find((j) => j.name === {NAME!r}).steps")
    assert steps >= 10 and series[0] == series[1] == steps, (series, steps)  # a loss for every step
    assert series[2] >= 1, series  # eval loss on the held-out quarter
    assert page.locator("#train-chart canvas").count() >= 1
    assert "Done:" in job.locator(".train-line").inner_text()
    # The three held-out questions, answered by the base model and by the tuned one, side by side.
    assert "3 held-out questions" in page.inner_text("#train-samples caption")
    assert page.locator("#train-samples th").all_inner_texts() == ["Question", "Expected", "Before", "After"]
    rows = [page.locator("#train-samples tbody tr").nth(i).locator("td").all_inner_texts() for i in range(3)]
    assert page.locator("#train-samples tbody tr").count() == 3
    for question, expected, before, after in rows:
        assert question.startswith("What is the code of room ") and expected.startswith("Room "), rows
        assert before.strip() and after.strip() and after != "after training…", rows
    page.locator("#train-samples").scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(os.environ.get("CHAT_SCREENSHOTS") or str(tmp_path), "train-sheet.png"),
                    full_page=True)

    job.locator("button:text('Chat with it')").click()
    page.wait_for_selector("#train", state="hidden")
    page.wait_for_selector("#settings", state="hidden")
    send(page, "What is the code of room 3?")
    texts = finished(page, 1, timeout=120_000)
    assert texts[0].strip(), texts
    tab = tab_of(server, page)
    try:
        settings = tab.call("open", {"session_id": session_of(page)})["settings"]
    finally:
        tab.close()
    assert settings["backend"] == "local" and settings["model"] == NAME, settings
    page.click("#open-settings")
    assert page.input_value("#set-model") == NAME

    # Delete takes the job and its model away.
    page.keyboard.press("Escape")
    page.click("#open-settings")
    page.click("#open-train")
    job.locator("button:text('Delete')").click()
    job.wait_for(state="detached")
    assert f"{NAME} and its model are deleted." in page.inner_text("#train-status")
    status, body = http_json(server.url + "/api/backends")
    assert status == 200 and NAME not in next(b for b in body["backends"] if b["name"] == "local")["models"], body


def test_train_on_this_chat_previews_its_question_and_answer(open_page, server):
    page = open_page().page
    unlock(page)
    page.keyboard.press("Escape")
    send(page, "When does the clinic open?")
    finished(page, 1, timeout=120_000)
    answer = page.evaluate("() => window.__chat.core.state.messages[1].content").strip()
    assert answer
    page.click("#open-settings")
    page.click("#train-chat")
    page.wait_for_selector("#train[open]")
    page.wait_for_selector("#train-preview:not(.bad) .train-examples li")  # checked by the server as a file is
    summary = page.inner_text("#train-preview .train-summary")
    assert summary.startswith("chat-when-does-the-clinic-open.jsonl: 1 example, every line good"), summary
    question, shown = page.locator(".train-examples li").first.inner_text().split("\n", 1)
    assert question == "When does the clinic open?" and shown.split() == answer.split(), (question, shown, answer)
    assert page.input_value("#train-name") == "chat-when-does-the-clinic-open" and page.is_enabled("#train-start")
