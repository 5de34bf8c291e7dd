"""Library answers composed for base models (#31) that a row, a column or a range picks: a table's row read with its
header, the cell of the column whose range holds the asker's age, a price for a height or a size said in a range,
a code of a series (P2, not P1), a how-far-ahead question answered by a length of time, a which-staff question
answered by a name. Through the library's own
ground() (with the built-in embedder, as the server's) and compose(), on documents of their own."""
from __future__ import annotations

import pytest

from server.knowledge.compose import compose
from server.knowledge.evidence import labelled

from tests.memory_library import in_memory

BIKES = """# Lakeside Bike Hire
## Prices per day
| Bike | Adult (18+) | Teen (12–17) | Kid (11 and under) |
|------|-------------|--------------|--------------------|
| City bike | $20 | $15 | $10 |
| Electric bike | $45 | $35 | — |
## Parties
Parties of 8 or more get 10% off. Book at least 3 days ahead with our events team.
"""
PARK = """# 星河乐园游客须知
## 门票
- 成人票每位120元。
- 身高1.1米以下儿童免票，1.1-1.5米儿童半价（60元）。
## 行李寄存
- 小件（20 寸及以下）：8 元/天
- 中件（20 寸以上至 26 寸）：12 元/天
- 大件（26 寸以上）：18 元/天
## 游船
| 线路 | 班次 | 首班 |
|------|------|------|
| 南岸 ⇄ P1码头 | 每15分钟一班 | 6:00 |
| 南岸 ⇄ P2码头 | 每40分钟一班 | 7:00 |
## 工作人员
- 孙磊：多媒体室管理员，投影仪、音响出问题找他，分机 6120。
- 多媒体室：共 40 个座位
"""


@pytest.fixture(scope="module")
def library():
    yield from in_memory({"lakeside-bikes.md": BIKES, "xinghe-park.md": PARK})


def answer(library, question):
    shown, sources = library.ground(question, "sentences")
    return compose(question, shown, sources)


def test_a_table_row_is_shown_with_its_header():
    assert labelled("Electric bike | $45 | $35 | — |", BIKES) == \
        "Electric bike | Adult (18+): $45 | Teen (12–17): $35"
    assert labelled("Bike | Adult (18+) | Teen (12–17) | Kid (11 and under) |", BIKES) == \
        "Bike | Adult (18+) | Teen (12–17) | Kid (11 and under) |"  # the header itself stays as it is
    assert labelled("Parties of 8 or more get 10% off.", BIKES) == "Parties of 8 or more get 10% off."


def test_the_column_whose_range_holds_the_asker_s_age_answers(library):
    got = answer(library, "How much is an electric bike for my 14 year old for a day?")
    assert got is not None and got.reply == "According to [1]: Electric bike | Teen (12–17): $35.", got
    assert got.grounding == {"supported": True}
    got = answer(library, "I'm 30. What does a city bike cost per day?")
    assert got is not None and "Adult (18+): $20" in got.reply and "$15" not in got.reply, got
    # No age said: the row's prices are rivals that nothing in the question tells apart.
    got = answer(library, "How much is a city bike per day?")
    assert got is None or got.grounding.get("supported") is False, got


def test_a_height_or_a_size_in_a_range_picks_its_clause(library):
    got = answer(library, "我家孩子一米二，门票多少钱？")
    assert got is not None and "1.1-1.5米儿童半价（60元）" in got.reply and "120" not in got.reply, got
    # 26 寸 is the end of 中件's range: not 大件's "26 寸以上" in a list that writes 及以下 where it means it.
    got = answer(library, "寄存一个26寸的行李箱，一天多少钱？")
    assert got is not None and "12 元" in got.reply and "18" not in got.reply, got


def test_a_code_of_a_series_picks_its_own_row(library):
    got = answer(library, "去P2码头的船多久一班？")
    assert got is not None and "P2码头 | 班次：每40分钟一班" in got.reply and "15分钟" not in got.reply, got


def test_how_far_ahead_asks_a_length_of_time(library):
    got = answer(library, "There are 9 of us. How far in advance do we have to book to get the party discount?")
    assert got is not None and "at least 3 days ahead" in got.reply and "10%" not in got.reply, got


def test_which_member_of_staff_asks_for_a_name(library):
    got = answer(library, "多媒体室的投影仪坏了，该找哪个工作人员？")
    assert got is not None and "孙磊" in got.reply and got.grounding == {"supported": True}, got
