"""Text out of an uploaded file, per type: (page or None, text) sections, or a ChatError a person can read."""
from __future__ import annotations

import io
import os
import re
from html.parser import HTMLParser

from ..errors import ChatError
from . import ocr

EXTENSIONS = (".txt", ".md", ".pdf", ".docx", ".html", ".htm") + ocr.IMAGE_EXTENSIONS


def bad(message: str) -> ChatError:
    return ChatError("bad_request", message)


def safe_title(filename: str) -> str:
    """The file's own name without folders or control characters; refuses names that try to climb folders."""
    if not isinstance(filename, str) or not filename.strip():
        raise bad("The upload has no file name.")
    if ".." in filename.replace("\\", "/").split("/") or filename.startswith(("/", "\\")) or "\x00" in filename:
        raise bad("The file name must be a plain name, not a path.")
    name = os.path.basename(filename.replace("\\", "/")).strip()
    name = re.sub(r"[\x00-\x1f\x7f]", "", name)[:200]
    if not name or name.startswith("."):
        raise bad("The file name must be a plain name, not a path.")
    return name


def extension(name: str) -> str:
    ext = os.path.splitext(name)[1].lower()
    if ext in ocr.UNREADABLE_PHOTOS:
        raise bad("HEIC photos cannot be read here; send it as JPEG (on an iPhone: Settings, Camera, Formats, "
                  "Most Compatible).")
    if ext not in EXTENSIONS:
        raise bad(f"Files of type {ext or '(none)'!r} cannot be added; use {', '.join(EXTENSIONS[:5])}.")
    return ext


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (Chinese Windows files); binary is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise bad("The file is not text.")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    raise bad("The file is not UTF-8 or GB18030 text.")


def parse_pdf(data: bytes, max_pages: int, on_page=None) -> list:
    # pypdf: pure Python (no system library to install on Windows or macOS), BSD, well kept, handles
    # CJK fonts with ToUnicode maps; pdfminer is slower, PyMuPDF is AGPL.
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise bad("The PDF is encrypted; add an unlocked copy.")
        pages = reader.pages
        if len(pages) > max_pages:
            raise ChatError("too_long", f"The PDF has {len(pages)} pages; the limit is {max_pages}.")
        sections = [(i + 1, page.extract_text() or "") for i, page in enumerate(pages)]
        return ocr.pdf_picture_pages(reader, sections, on_page)
    except ChatError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError, IndexError, RecursionError):
        raise bad("The PDF cannot be read; it may be damaged.")


def parse_docx(data: bytes) -> list:
    # python-docx: the maintained reader of Word's format, pure Python over lxml; paragraphs and tables.
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, ValueError, KeyError, OSError) as e:
        raise bad("The Word file cannot be read; it may be damaged.") from e
    except Exception as e:  # zipfile.BadZipFile, lxml errors: a damaged file, whatever the library raises
        raise bad("The Word file cannot be read; it may be damaged.") from e
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return [(None, "\n".join(parts))]


class _HTMLText(HTMLParser):
    """Visible text of a page; the standard library's parser is enough and forgiving of bad markup."""

    SKIP = {"script", "style", "noscript", "template", "head"}
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table", "pre"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        if tag in self.SKIP:
            self.skipping += 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self.skipping:
            self.parts.append(data)


def parse_html(data: bytes) -> list:
    parser = _HTMLText()
    parser.feed(decode_text(data))
    parser.close()
    return [(None, "".join(parser.parts))]


def parse(filename: str, data: bytes, max_pages: int, on_page=None) -> tuple[str, list]:
    """(title, sections) of one upload; raises ChatError for a wrong type, a damaged file or no text.

    on_page(done, total) is called while pictures are read by OCR (an image, a PDF's picture pages)."""
    title = safe_title(filename)
    ext = extension(title)
    if not data:
        raise bad("The file is empty.")
    if ext in ocr.IMAGE_EXTENSIONS:
        sections = ocr.image_sections(data, on_page)
    elif ext == ".pdf":
        sections = parse_pdf(data, max_pages, on_page)
    elif ext == ".docx":
        sections = parse_docx(data)
    elif ext in (".html", ".htm"):
        sections = parse_html(data)
    else:
        sections = [(None, decode_text(data))]
    sections = [(page, text) for page, text in sections if text and text.strip()]
    if not sections:
        raise bad("No text could be found in the file (nor in its pictures).")
    return title, sections
