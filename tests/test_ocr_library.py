"""Photos and scans in the library: read by OCR on this machine, found by search, cited by a grounded chat."""
from __future__ import annotations

import struct
import threading
import time
import urllib.request
import zlib

import pytest

from tests.kb_files import upload
from tests.live import LiveServer, http_json
from tests.pictures import PHOTO, encode, mixed_pdf, picture_pdf, render

NOTICE = ["社区诊所疫苗接种时间：每周四下午两点", "Vaccinations at the clinic: Thursday 2 pm"]
SCAN_PAGES = [["Library card renewal costs 12 credits", "图书证每年续办一次"],
              ["The reading room closes at nine", "阅览室晚上九点关闭"]]


@pytest.fixture(scope="module")
def ocr_server(stub, tmp_path_factory):
    data = tmp_path_factory.mktemp("ocr-data")
    server = LiveServer("--backend", "openai", "--base-url", stub.url, "--data-dir", str(data),
                        "--rate-per-minute", "0", "--rate-per-minute-ip", "0", async_mode="eventlet").start()
    yield server
    server.stop()


def search(url: str, query: str) -> list[dict]:
    status, body = http_json(url + "/api/kb/search", {"query": query, "k": 3})
    assert status == 200 and body["ok"], body
    return body["results"]


def test_a_photo_of_a_notice_is_read_found_and_cited(ocr_server, stub, make_client):
    url = ocr_server.url
    photo = encode(render(NOTICE, angle=2, paper=PHOTO), "JPEG", quality=85)
    status, body = upload(url, "notice.jpg", photo)
    assert status == 200 and body["ok"], body
    doc = body["document"]
    assert doc["ocr"] is True and doc["title"] == "notice.jpg"
    listed = {d["id"]: d for d in http_json(url + "/api/kb/documents")[1]["documents"]}
    assert listed[doc["id"]].get("ocr") is True

    best = search(url, "疫苗接种时间")[0]
    assert best["document_id"] == doc["id"] and "疫苗接种" in best["text"] and "Thursday" in best["text"]

    client = make_client(url)
    rid = client.chat("When are vaccinations at the clinic?", model="say:Thursday at 2 pm [1].", knowledge=True)
    done = client.wait_done(rid)
    assert done["text"] == "Thursday at 2 pm [1]." and done["sources"][0]["document_id"] == doc["id"]
    system = stub.requests[-1]["messages"][0]["content"]
    assert "Thursday 2 pm" in system.replace("Thursday2", "Thursday 2")

    # A source can show the photo its passage was read from; deleting the document takes it away.
    with urllib.request.urlopen(f"{url}/api/kb/documents/{doc['id']}/picture", timeout=30) as r:
        assert r.headers["Content-Type"] == "image/jpeg" and r.read() == photo
    assert http_json(url + f"/api/kb/documents/{doc['id']}", method="DELETE")[0] == 200
    assert http_json(url + f"/api/kb/documents/{doc['id']}/picture")[0] == 404


def test_a_scanned_pdf_is_read_page_by_page_with_progress(ocr_server, stub):
    url = ocr_server.url
    scan = picture_pdf([render(lines, size=28, paper=PHOTO) for lines in SCAN_PAGES])
    phases, result = [], {}
    uploading = threading.Thread(target=lambda: result.update(zip(("status", "body"), upload(url, "scan.pdf", scan))))
    uploading.start()
    while uploading.is_alive():
        progress = http_json(url + "/api/kb/progress")[1]["progress"]
        if progress:
            phases.append((progress["phase"], progress["done"], progress["total"]))
        time.sleep(0.05)
    assert result["status"] == 200, result
    doc = result["body"]["document"]
    assert doc["ocr"] is True
    assert ("ocr", 0, 2) in phases or ("ocr", 1, 2) in phases, phases

    best = search(url, "阅览室几点关闭")[0]
    assert best["document_id"] == doc["id"] and best["page"] == 2 and "九点" in best["text"]
    status, body = http_json(url + "/api/chat", {"message": "How much is a library card renewal?", "knowledge": True,
                                                 "model": "say:12 credits [1]."})
    assert status == 200 and body["sources"][0]["document_id"] == doc["id"] and body["sources"][0]["page"] == 1
    assert "12 credits" in stub.requests[-1]["messages"][0]["content"]
    status, body = http_json(url + f"/api/kb/documents/{doc['id']}/picture")
    assert status == 404 and body["error"]["code"] == "not_found"  # a PDF's pages are not kept as pictures


def test_a_pdf_keeps_its_text_layer_and_reads_only_its_picture_page(ocr_server):
    url = ocr_server.url
    typed = "The workshop key hangs behind the blue door, left hook."
    status, body = upload(url, "mixed.pdf", mixed_pdf(typed, render(["仓库钥匙由王老师保管"], size=36, paper=PHOTO)))
    assert status == 200 and body["document"]["ocr"] is True, body
    first = search(url, "Where does the workshop key hang?")[0]
    assert first["page"] == 1 and first["text"] == typed  # the text layer, not a reading of it
    second = search(url, "仓库钥匙由谁保管")[0]
    assert second["page"] == 2 and "王老师" in second["text"]


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, followed by a tiny (wrong) image stream."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def test_bad_pictures_are_refused_with_a_sentence_and_store_nothing(ocr_server):
    url = ocr_server.url
    before = http_json(url + "/api/kb/documents")[1]["documents"]
    whole = encode(render(["Half a picture"]), "PNG")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>hi</text></svg>'
    cases = [
        ("cut.png", whole[: len(whole) // 2], "damaged"),
        ("nothing.jpg", b"", "empty"),
        ("bomb.png", png_header(20000, 20000), "megapixels"),
        ("large.png", png_header(9000, 7000), "megapixels"),  # over 50 MP, under Pillow's own 89 MP
        ("drawing.svg", svg, "'.svg' cannot be added"),
        ("drawing.png", svg, "not a picture"),
        ("IMG_0001.HEIC", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64, "JPEG"),
        ("white.png", encode(render([""], paper=PHOTO)), "no text"),
    ]
    for name, data, words in cases:
        status, body = upload(url, name, data)
        assert status == 400 and body["ok"] is False and body["error"]["code"] == "bad_request", (name, body)
        message = body["error"]["message"]
        assert words.lower() in message.lower() and message.endswith("."), (name, message)
    assert http_json(url + "/api/kb/documents")[1]["documents"] == before
