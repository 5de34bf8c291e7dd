"""Chat attachments through a live server:
their text reaches the model, they stay with their device and conversation."""
from __future__ import annotations

import base64
import urllib.request

import pytest

from server.chat.sessions import new_client_id
from tests.kb_files import upload
from tests.live import Client, LiveServer, http_json
from tests.pictures import PHOTO, encode, render

SEEING = "say:I see a fridge note."  # a model that takes images (--vision-models)
NOTE = ["药品冷藏温度：2 至 8 摄氏度", "Keep insulin between 2 and 8 degrees"]


@pytest.fixture(scope="module")
def server(stub, tmp_path_factory):
    data = tmp_path_factory.mktemp("attach-data")
    s = LiveServer("--backend", "openai", "--base-url", stub.url, "--data-dir", str(data),
                   "--rate-per-minute", "0", "--rate-per-minute-ip", "0", "--attachments-max-mb", "2",
                   "--vision-models", f"other-model,{SEEING}").start()
    yield s
    s.stop()


def attach(url: str, device: str, name: str, data: bytes):
    return upload(url, name, data, headers={"X-Client-Id": device}, path="/api/attachments")


def fetch(url: str, attachment_id: str, device: str | None):
    req = urllib.request.Request(f"{url}/api/attachments/{attachment_id}",
                                 headers={"X-Client-Id": device} if device else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()


def test_a_photo_attached_to_a_message_reaches_the_model_and_stays_with_the_conversation(server, stub):
    url, me, other = server.url, new_client_id(), new_client_id()
    photo = encode(render(NOTE, paper=PHOTO), "PNG")
    status, body = attach(url, me, "fridge.png", photo)
    assert status == 200 and body["ok"], body
    a = body["attachment"]
    assert (a["name"], a["type"], a["bytes"]) == ("fridge.png", "image/png", len(photo))
    assert a["chars"] > 20 and "insulin" in a["text_preview"]

    assert fetch(url, a["id"], me) == (200, "image/png", photo)
    status, _, raw = fetch(url, a["id"], other)
    assert status == 404 and b"no such attachment" in raw
    assert fetch(url, a["id"], None)[0] == 400

    client = Client(url, client_id=me)
    try:
        rid = client.chat("What temperature does this say?", model="say:2 to 8 degrees.", attachments=[a["id"]])
        assert client.wait_done(rid)["text"] == "2 to 8 degrees."
        sent = stub.requests[-1]["messages"][-1]["content"]
        assert sent.startswith("What temperature does this say?") and "fridge.png" in sent and "冷藏" in sent
        history = client.call("history")["history"]
        assert history[-2]["attachments"] == [{"id": a["id"], "name": "fridge.png", "type": "image/png"}]
        assert history[-2]["content"] == "What temperature does this say?"  # the text read is for the model only
        status, doc = http_json(f"{url}/api/conversations/{client.session_id}/export", headers={"X-Client-Id": me})
        assert status == 200 and doc["messages"][0]["attachments"][0]["id"] == a["id"]
        req = urllib.request.Request(f"{url}/api/conversations/{client.session_id}/export?format=md",
                                     headers={"X-Client-Id": me})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert "Attached: fridge.png" in r.read().decode()
        # The export imports again (on this device) with its attachments' names.
        status, body = http_json(url + "/api/conversations/import", doc, headers={"X-Client-Id": me})
        assert status == 200 and body["ok"], body

        # Another device's attachment is refused, and the conversation stays as it was.
        theirs = attach(url, other, "notes.txt", b"The spare key is under the mat.")[1]["attachment"]["id"]
        reply = client.call("chat", {"message": "And this?", "attachments": [theirs]})
        assert reply["ok"] is False and reply["error"]["code"] == "not_found"
        reply = client.call("chat", {"message": "Too many", "attachments": [a["id"]] * 5})
        assert reply["ok"] is False and "at most 4" in reply["error"]["message"]
        assert len(client.call("history")["history"]) == 2

        # Deleting the conversation deletes what it attached; the other device's file stays.
        assert client.call("delete", {"session_id": client.session_id})["ok"]
        assert fetch(url, a["id"], me)[0] == 404
        assert fetch(url, theirs, other)[0] == 200
    finally:
        client.close()


def test_a_model_that_takes_images_gets_the_photo_itself(server, stub):
    url, me = server.url, new_client_id()
    photo = encode(render(NOTE, paper=PHOTO), "JPEG", quality=80)
    a = attach(url, me, "fridge.jpg", photo)[1]["attachment"]
    status, body = http_json(url + "/api/chat", {"message": "What is this?", "attachments": [a["id"]], "model": SEEING},
                             headers={"X-Client-Id": me})
    assert status == 200 and body["text"] == "I see a fridge note.", body
    text, image = stub.requests[-1]["messages"][-1]["content"]
    assert text["type"] == "text" and text["text"].startswith("What is this?") and "insulin" in text["text"]
    assert image["type"] == "image_url"
    assert base64.b64decode(image["image_url"]["url"].removeprefix("data:image/jpeg;base64,")) == photo


def test_the_http_chat_takes_attachments_too(server, stub):
    url, me = server.url, new_client_id()
    a = attach(url, me, "menu.md", "# 今日菜单\n午餐：番茄炒蛋".encode())[1]["attachment"]
    status, body = http_json(url + "/api/chat",
                             {"message": "午餐吃什么？", "attachments": [a["id"]], "model": "say:番茄炒蛋。"},
                             headers={"X-Client-Id": me})
    assert status == 200 and body["text"] == "番茄炒蛋。", body
    assert "番茄炒蛋" in stub.requests[-1]["messages"][-1]["content"]


def test_a_device_has_a_total_size_cap_and_bad_files_are_refused(server):
    url, me = server.url, new_client_id()
    first = attach(url, me, "a.txt", b"word " * 240_000)  # 1.2 MB of the 2 MB cap
    assert first[0] == 200, first
    status, body = attach(url, me, "b.txt", b"word " * 240_000)
    assert status == 413 and body["error"]["code"] == "too_long" and "limit is 2 MB" in body["error"]["message"]
    assert attach(url, new_client_id(), "b.txt", b"word " * 240_000)[0] == 200  # another device has its own
    for name, data, words in [("cut.jpg", encode(render(["x"]), "JPEG")[:300], "damaged"),
                              ("tool.exe", b"MZ", "cannot be added"), ("empty.png", b"", "empty")]:
        status, body = attach(url, me, name, data)
        assert status == 400 and words in body["error"]["message"], (name, body)
