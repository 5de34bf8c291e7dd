"""What the question says in other ways than the document (#31): an age where a table's row gives a range and a
who-question where the person is named in a list get that line into a base model's evidence (through the library's
own ground() with the built-in embedder, and compose()); a reply saying 周末 is backed by 周六、周日."""
from __future__ import annotations

import pytest

from server.knowledge.compose import compose
from server.knowledge.grounding import for_done

from tests.memory_library import in_memory

TOURS = """# Seaglass Boat Tours
The harbour tour boat leaves the Old Quay every hour from 10:00. An adult ticket for the harbour tour costs £14 and
a return ticket for the island tour costs £22.
Tickets for the harbour tour are sold at the kiosk on the Old Quay and online.
## Fares for the island tour
| Ticket | Price |
|--------|-------|
| Adult | £18.00 |
| Child (4–12) | £7.50 |
| Senior (65 and over) | £12.00 |
## Staff
- Marina Costa, Tour Coordinator — school groups, private charters and birthday trips, ext. 311
## Sailing
- Kids' Sailing Club (ages 8–12) — Saturdays 9:30am – 11:30am, £12 per session.
- Adult sailing sessions — Sundays 10:00am – 1:00pm, £30 per session.
- Sailing sessions are cancelled in winds over 25 knots; kids' sessions move to the next Saturday.
- Tom Reyes, Sailing Lead — kids' club and adult courses, ext. 315
"""
POOL = """# 枫桥社区游泳馆
## 开放时间
- 周二至周五：14:00–21:00
- 周六、周日：8:30–18:00
- 周一闭馆。
## 须知
- 游泳馆位于枫桥社区活动中心一楼，入口在东侧，门口有 20 个自行车位。
- 游泳馆只接待持卡会员，泳帽必须佩戴。
"""


@pytest.fixture(scope="module")
def library():
    yield from in_memory({"seaglass-tours.md": TOURS, "fengqiao-pool.md": POOL})


def ask(library, question):
    """(the evidence lines a base model reads, the composed reply or None)."""
    shown, sources = library.ground(question, "sentences")
    found = compose(question, shown, sources)
    return shown.split("Evidence:", 1)[1], found and found.reply


def test_an_age_picks_the_row_whose_range_holds_it_over_prose_sharing_more_words(library):
    evidence, reply = ask(library, "How much is a ticket for the island tour for my 9 year old?")
    assert "£7.50" in evidence
    assert reply is not None and "£7.50" in reply and "£18" not in reply and "£14" not in reply


def test_a_reply_saying_weekend_is_backed_where_the_document_lists_its_two_days(library):
    question = "周末游泳馆几点关门？"
    shown, sources = library.ground(question, "sentences")
    messages = [{"role": "system", "content": shown}, {"role": "user", "content": question}]
    assert for_done("周末开到18:00 [1]。", "stop", question, sources, messages) == {"supported": True}
    assert for_done("周末开到21:00 [1]。", "stop", question, sources, messages)["supported"] is False


def test_a_who_question_is_shown_the_line_that_names_the_person(library):
    evidence, _ = ask(library, "Who runs the kids' sailing sessions on Saturday mornings?")
    assert "Tom Reyes" in evidence
