"""Math in replies on the page in a real Chromium: KaTeX (served by the server) draws $...$, \\(...\\), $$...$$ and
\\[...\\]; prices with dollar signs and code stay as written."""
from __future__ import annotations

from tests.browser.page import SKIPS, finished, tab_of  # noqa: F401  (fixtures come from conftest.py)

pytestmark = SKIPS

REPLY = ("The area is $\\pi r^2$ and the ratio \\(\\frac{a}{b}\\) holds.\n\n$$E = mc^2$$\n\n"
         "\\[\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}\\]\n\nIt costs $5 and $6 today. Code: `$HOME` stays.")


def test_a_reply_with_latex_is_drawn_as_math(open_page, server):
    rec = open_page()
    page = rec.page
    tab = tab_of(server, page)  # the same conversation: the page follows the reply as it would its own
    try:
        rid = tab.chat("Formulas please", model="say:" + REPLY)
        tab.wait_done(rid)
    finally:
        tab.close()
    finished(page, 1)
    reply = page.locator(".msg.assistant .md").last
    page.wait_for_function("() => document.querySelectorAll('.msg.assistant .katex').length >= 4")
    inline = reply.locator(".math-inline .katex")
    display = reply.locator(".math-display .katex-display")
    assert inline.count() == 2 and display.count() == 2
    # Drawn, not raw: KaTeX's fraction and superscript boxes, and no TeX source left in the text a person reads.
    assert reply.locator(".mfrac").count() >= 2 and reply.locator(".msupsub").count() >= 2
    text = reply.inner_text()
    assert "\\frac" not in text and "\\(" not in text and "$$" not in text
    assert "$5 and $6 today" in text and "$HOME" in text
    # KaTeX's fonts come from this server (the page works offline); the conftest checks no other origin was asked.
    assert page.evaluate("() => document.fonts.check('16px KaTeX_Main')")
