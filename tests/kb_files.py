"""Real documents for the knowledge base tests, made with the libraries the server reads them with."""
from __future__ import annotations

import io
import json
import urllib.request
import uuid


def pdf(pages: list[str]) -> bytes:
    """A PDF with one page per string, written by reportlab (text that pypdf can extract again)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for text in pages:
        y = 800
        for line in text.split("\n"):
            c.drawString(50, y, line)
            y -= 16
        c.showPage()
    c.save()
    return buf.getvalue()


def docx(paragraphs: list[str]) -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def upload(url: str, filename: str, data: bytes, token: str | None = None, timeout: float = 120,
           headers: dict | None = None, path: str = "/api/kb/documents"):
    """(status, JSON body) of a multipart upload to /api/kb/documents (or another path)."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(url + path, data=body, method="POST")
    req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def docx_bomb(paragraphs: int, chars: int, text_runs: bool = True, runs: int = 1) -> bytes:
    """A small .docx whose document.xml expands to paragraphs x runs x chars characters of text (or of
    empty paragraphs, paragraphs x chars of them)."""
    run = f"<w:r><w:t>{'A' * chars}</w:t></w:r>" * runs
    return word_document((f"<w:p>{run}</w:p>" if text_runs else "<w:p/>" * chars) * paragraphs)


def word_document(body: str) -> bytes:
    """A .docx whose document.xml's body is exactly `body` (WordprocessingML), the rest a real Word file's."""
    import zipfile

    base = zipfile.ZipFile(io.BytesIO(docx(["seed"])))
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           f"<w:body>{body}</w:body></w:document>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in base.infolist():
            z.writestr(item, xml if item.filename == "word/document.xml" else base.read(item.filename))
    return out.getvalue()
