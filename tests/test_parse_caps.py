"""The library's readers stop at the text cap (--kb-max-chars) on every file type, and still read real files."""
import io

import pytest

from server.errors import ChatError
from server.knowledge.parse import parse
from tests.kb_files import pdf, word_document


def refused(name: str, data: bytes, max_chars: int) -> str:
    with pytest.raises(ChatError) as e:
        parse(name, data, 100, max_chars)
    assert e.value.code == "too_long"
    return e.value.message


def test_every_type_stops_at_the_cap():
    assert "10,000 characters" in refused("a.txt", b"word " * 3000, 10_000)
    assert "10,000 characters" in refused("a.html", b"<p>" + b"word " * 3000 + b"</p>", 10_000)
    one_page = pdf([("word " * 20 + "\n") * 45])  # 4,500 characters on one page: stopped inside it
    assert "3,000 characters" in refused("a.pdf", one_page, 3_000)
    assert len(parse("a.pdf", one_page, 100, 5_000)[1][0][1]) > 4000
    assert "10,000 characters" in refused("a.docx",
                                          word_document(("<w:p><w:r><w:t>" + "A" * 6000 + "</w:t></w:r></w:p>") * 3),
                                          10_000)
    assert "paragraphs" in refused("a.docx", word_document("<w:p/>" * 2000), 10_000)
    assert "markup" in refused("a.docx", word_document("<w:p><w:r><w:t>hi</w:t></w:r></w:p>"
                                                       + '<w:bookmarkStart w:id="1"/>' * 30_000), 10_000)


def test_word_files_read_in_order_with_tables_breaks_and_tabs():
    import docx as python_docx

    document = python_docx.Document()
    document.add_paragraph("Intro")
    table = document.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "Fee", (0, 1): "Amount", (1, 0): "Lunch", (1, 1): "12 yuan"}.items():
        table.cell(r, c).text = text
    run = document.add_paragraph("Line one").add_run()
    run.add_break()
    run.add_text("line two\tafter a tab")
    buf = io.BytesIO()
    document.save(buf)
    assert parse("t.docx", buf.getvalue(), 10) == ("t.docx", [(None, "Intro\nFee | Amount\nLunch | 12 yuan\n"
                                                                     "Line one\nline two\tafter a tab")])


def test_names_keep_their_extension_and_lose_bidi_controls():
    title, _ = parse("n" * 5000 + ".md", b"text", 10)
    assert len(title) == 200 and title.endswith("n.md")
    assert parse("report\u202etxt\u2069.md", b"text", 10)[0] == "reporttxt.md"
    for name in ("a/b.txt", "a\\b.txt", "../x.txt"):
        with pytest.raises(ChatError):
            parse(name, b"text", 10)
