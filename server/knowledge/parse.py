"""Text out of an uploaded file, per type: (page or None, text) sections, or a ChatError a person can read."""
from __future__ import annotations

import io
import os
import re
from html.parser import HTMLParser

from ..errors import ChatError
from ..text_rules import LONE_SURROGATE, without_bidi_controls
from . import ocr

EXTENSIONS = (".txt", ".md", ".pdf", ".docx", ".html", ".htm") + ocr.IMAGE_EXTENSIONS
MAX_CHARS = 2_000_000  # a document's text (--kb-max-chars): a 600-page book is about 1.5 million characters
# Word's XML spends 10-30 bytes of markup on a character of text: past this many bytes per allowed
# character the file is markup, not text, and its reading stops.
XML_BYTES_PER_CHAR = 50
# Reading a paragraph costs 5-15 us however short it is (lxml events, 2 busy cores): a file of millions of
# empty paragraphs would take a minute without a cap on them; real text averages far over 10 per paragraph.
CHARS_PER_PARAGRAPH = 10
MAX_TITLE = 200  # characters of a document's title


def bad(message: str) -> ChatError:
    return ChatError("bad_request", message)


def safe_title(filename: str) -> str:
    """The file's own name without control or bidi characters, cut to MAX_TITLE with its extension kept;
    a name with folders in it is refused."""
    if not isinstance(filename, str) or not filename.strip():
        raise bad("The upload has no file name.")
    if "/" in filename or "\\" in filename or "\x00" in filename:
        raise bad("The file name must be a plain name, not a path.")
    name = without_bidi_controls(re.sub(r"[\x00-\x1f\x7f]", "", filename)).strip()
    if LONE_SURROGATE.search(name):
        raise bad("The file name is not valid Unicode.")
    if not name or name.startswith("."):
        raise bad("The file name must be a plain name, not a path.")
    stem, ext = os.path.splitext(name)
    return stem[:MAX_TITLE - len(ext)].rstrip() + ext if len(name) > MAX_TITLE and len(ext) < 20 else name[:MAX_TITLE]


def too_long(max_chars: int) -> ChatError:
    return ChatError("too_long", f"The document's text is longer than the limit of {max_chars:,} characters "
                                 "(--kb-max-chars); nothing was stored.")


class TextBudget:
    """Counts the characters read so far and stops the reading as soon as they pass the cap."""

    def __init__(self, max_chars: int):
        self.max_chars = max_chars
        self.used = 0

    def take(self, text: str) -> str:
        self.used += len(text) + 1  # + the line between two pieces
        if self.used > self.max_chars:
            raise too_long(self.max_chars)
        return text


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


def _page_text(page, budget: TextBudget) -> str:
    """A page's text; the visitor sees each piece as the content stream is read, so a stream that expands to
    millions of characters is stopped there, not after its whole text is built."""
    seen = [budget.used]

    def count(text, *_):
        seen[0] += len(text)
        if seen[0] > budget.max_chars:
            raise too_long(budget.max_chars)

    return page.extract_text(visitor_text=count) or ""


def parse_pdf(data: bytes, max_pages: int, budget: TextBudget, on_page=None) -> list:
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
        sections = [(i + 1, budget.take(_page_text(page, budget))) for i, page in enumerate(pages)]
        read = ocr.pdf_picture_pages(reader, sections, on_page)
        return [(page, text if text is was else budget.take(text)) for (page, text), (_, was) in zip(read, sections)]
    except ChatError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError, IndexError, RecursionError):
        raise bad("The PDF cannot be read; it may be damaged.")


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
P, TC, TR, T, TAB, BR, CR = (W + t for t in ("p", "tc", "tr", "t", "tab", "br", "cr"))


class _Capped(io.RawIOBase):
    """A file read no further than `limit` bytes: past it, the document is refused."""

    def __init__(self, raw, limit: int):
        self.raw, self.limit, self.left = raw, limit, limit

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        got = self.raw.read(1 << 16 if n is None or n < 0 else min(n, 1 << 16))
        self.left -= len(got)
        if self.left < 0:
            raise ChatError("too_long", f"The Word file expands to more than {self.limit // 1_000_000} MB of "
                                        "markup (--kb-max-chars x 50); nothing was stored.")
        return got


def _paragraph_text(p) -> str:
    return "".join("\t" if n.tag == TAB else "\n" if n.tag in (BR, CR) else (n.text or "")
                   for n in p.iter(T, TAB, BR, CR))


def parse_docx(data: bytes, budget: TextBudget) -> list:
    """Paragraphs in reading order (a table row as its cells joined by ' | '), read as a stream: the reading
    stops at the character cap, and elements already read are freed, so a file that expands to millions of
    characters costs neither the time nor the memory of its whole text."""
    import zipfile

    from lxml import etree

    try:
        member = zipfile.ZipFile(io.BytesIO(data)).open("word/document.xml")
        xml = _Capped(member, budget.max_chars * XML_BYTES_PER_CHAR)
        parts: list[str] = []
        cells: list[str] = []
        row: list[str] = []
        paragraphs, max_paragraphs = 0, budget.max_chars // CHARS_PER_PARAGRAPH
        for _, el in etree.iterparse(xml, events=("end",), tag=(P, TC, TR), resolve_entities=False,
                                     no_network=True, huge_tree=False):
            if el.tag == P:
                paragraphs += 1
                if paragraphs > max_paragraphs:
                    raise ChatError("too_long", f"The Word file has more than {max_paragraphs:,} paragraphs "
                                                "(--kb-max-chars / 10); nothing was stored.")
                text = budget.take(_paragraph_text(el))
                parent = el.getparent()
                (cells if parent is not None and parent.tag == TC else parts).append(text)
            elif el.tag == TC:
                row.append("\n".join(cells))
                cells = []
            else:
                parts.append(" | ".join(row))
                row = []
            el.clear(keep_tail=False)
            while el.getprevious() is not None:  # what was read before is not needed again
                del el.getparent()[0]
    except ChatError:
        raise
    except Exception as e:  # zipfile.BadZipFile, KeyError (no document.xml), lxml's XMLSyntaxError: damaged
        raise bad("The Word file cannot be read; it may be damaged.") from e
    return [(None, "\n".join(parts))]


class _HTMLText(HTMLParser):
    """Visible text of a page; the standard library's parser is enough and forgiving of bad markup."""

    SKIP = {"script", "style", "noscript", "template", "head"}
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table", "pre"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.size = 0  # characters in parts
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
            self.size += len(data)


def parse_html(data: bytes, budget: TextBudget) -> list:
    parser = _HTMLText()
    text = decode_text(data)
    step = 1 << 16
    for i in range(0, len(text), step):  # fed in pieces, so that the cap stops a long page early
        parser.feed(text[i:i + step])
        if parser.size > budget.max_chars:
            raise too_long(budget.max_chars)
    parser.close()
    return [(None, budget.take("".join(parser.parts)))]


def parse(filename: str, data: bytes, max_pages: int, max_chars: int = MAX_CHARS, on_page=None) -> tuple[str, list]:
    """(title, sections) of one upload; raises ChatError for a wrong type, a damaged file, text past
    max_chars or no text. on_page(done, total) is called while pictures are read by OCR."""
    title = safe_title(filename)
    ext = extension(title)
    if not data:
        raise bad("The file is empty.")
    budget = TextBudget(max_chars)
    if ext in ocr.IMAGE_EXTENSIONS:
        sections = [(page, budget.take(text)) for page, text in ocr.image_sections(data, on_page)]
    elif ext == ".pdf":
        sections = parse_pdf(data, max_pages, budget, on_page)
    elif ext == ".docx":
        sections = parse_docx(data, budget)
    elif ext in (".html", ".htm"):
        sections = parse_html(data, budget)
    else:
        sections = [(None, budget.take(decode_text(data)))]
    sections = [(page, text) for page, text in sections if text and text.strip()]
    if not sections:
        raise bad("No text could be found in the file (nor in its pictures).")
    return title, sections
