"""Sums a library reply must make (#31), in process over a library in memory: a base model's reply to a
value question whose answer no clause writes (two people's tickets, three nights, a student's 八折, a senior's 20%
off, a child's half price, a fee plus its deposit) is composed with the sum written out and cited; the check of a
model's reply backs a written sum's result only where every operand is the evidence's and the sum is right."""
from __future__ import annotations

import pytest

from server.knowledge.compose import compose
from server.knowledge.composed_check import of_composed
from server.knowledge.grounding import check, evidence_style
from tests.memory_library import in_memory

SPA = """# 青山温泉 价目表
## 门票与住宿
| 项目 | 价格 |
|---|---|
| 温泉门票 | 每人112元 |
| 家庭房 | 每晚460元 |
- 在校学生凭学生证购买温泉门票打八折。
## 课程
- 游泳课程学费为600元，另交器材押金200元。
"""
LODGE = """# Maple Lodge: Rates and Discounts
- A double room costs $85 per night.
- The breakfast buffet is $12 per person.
- Children under 12 pay half the adult price for the breakfast buffet.
- Guests aged 65 and over get 20% off room rates.
"""
# The chunker cuts this table below its header: the rows' passage starts at the header's rule.
SCOOTERS = """# CityGlide Scooters: Rider Guide
CityGlide runs 800 pedal bikes and 500 e-scooters across Portwell.
This guide lists plans, prices, deposits and the rules every rider agrees to.
## Who can ride
- Pedal bikes: riders aged 14 and over; riders aged 14-17 need a parent to link their account.
- E-scooters: 18 and over with a driving licence.
## Plans and prices
| Plan | Pedal bike | E-scooter |
|---|---|---|
| Unlock fee | $1.00 | $1.50 |
| Day Pass | $9 | not available |
| Weekly Pass | $15 | $30 |
| Per minute | $0.12 | $0.39 |
| Monthly Pass | $28 | $64 |
- Passes include unlimited rides of up to 45 minutes each.
"""
KENNEL = """# 毛球宠物寄养 须知
## 价格
| 宠物类型 | 每晚价格 | 入住押金 |
|---|---|---|
| 小型犬（10公斤以下） | 80元 | 300元 |
| 中型犬（10–25公斤） | 110元 | 500元 |
| 大型犬（25公斤以上） | 150元 | 500元 |
"""
BASE = type("Base", (), {"base_model": True})()
CHAT = type("Chat", (), {"base_model": False})()


@pytest.fixture(scope="module")
def library():
    yield from in_memory({"spa.md": SPA, "lodge.md": LODGE})


def composed(library, question: str) -> tuple[str, dict]:
    """A base model's reply and its done.grounding, as ground_chat makes them."""
    shown, sources = library.ground(question, evidence_style("auto", BASE))
    found = compose(question, shown, sources)
    assert found is not None, shown
    return found.reply, of_composed(found.grounding, found.reply, question, sources, shown)


@pytest.mark.parametrize("question, sum_, said", [
    ("我们两个人去泡温泉，门票一共多少钱？", "2 × 112元 = 224元", "每人112元"),
    ("家庭房住三晚要多少钱？", "3 × 460元 = 1380元", "每晚460元"),
    ("我是大学生，温泉门票多少钱？", "112元 × 0.8 = 89.6元", "打八折"),
    ("游泳课程学费加押金一共要交多少钱？", "600元 + 200元 = 800元", "押金200元"),
    ("Two of us want the breakfast buffet. How much will that cost?", "2 × $12 = $24", "$12 per person"),
    ("I'm 70. How much is a double room per night for me?", "$85 × 0.8 = $68", "20% off room rates"),
    ("My daughter is 8. How much is the breakfast buffet for her?", "$12 × 0.5 = $6", "half the adult price"),
])
def test_a_sum_the_question_asks_is_written_out_from_the_clauses_it_uses(library, question, sum_, said):
    reply, grounding = composed(library, question)
    assert sum_ in reply and said in reply and "[" in reply, reply
    assert grounding == {"supported": True}, (reply, grounding)


def test_no_sum_where_the_clause_gives_the_asked_value_itself(library):
    # One ticket, one night: the clause's own price; a child's age outside the discount's: no half price.
    for question, value in (("温泉门票多少钱？", "112元"), ("家庭房一晚多少钱？", "460元"),
                            ("My son is 14. How much is the breakfast buffet for him?", "$12")):
        reply, _ = composed(library, question)
        assert value in reply and "=" not in reply, reply


@pytest.mark.parametrize("reply, supported", [
    ("A double room is $85 × 0.8 = $68 a night for you [2].", True),
    ("A double room is $95 × 0.8 = $76 a night for you [2].", False),  # an operand the evidence does not hold
    ("A double room is $85 × 0.8 = $70 a night for you [2].", False),  # a wrong result
    ("A double room is $85 × 0.7 = $59.50 a night for you [2].", False),  # a discount the evidence does not give
    ("A double room is $68 a night for you [2].", False),  # a number no written sum backs
])
def test_a_models_written_sum_is_backed_only_by_right_arithmetic_on_the_evidence(library, reply, supported):
    question = "I'm 70. How much is a double room per night for me?"
    shown, sources = library.ground(question, evidence_style("auto", CHAT))
    assert check(reply, question, sources, shown)["supported"] is supported, reply


@pytest.fixture(scope="module")
def scooters():
    yield from in_memory({"cityglide-guide.md": SCOOTERS})


@pytest.mark.parametrize("question", ["How much per minute is an e-scooter at CityGlide?",
                                      "CityGlide的电动滑板车每分钟多少钱？"])
def test_a_cell_of_a_table_cut_from_its_header_is_written_with_its_row_and_column(scooters, question):
    shown, _ = scooters.ground(question, evidence_style("auto", BASE))
    # The row as a base model reads it, each price under its column's name, not "Per minute | $0.12 | $0.39 |".
    assert "Per minute | Pedal bike: $0.12 | E-scooter: $0.39" in shown, shown
    reply, grounding = composed(scooters, question)
    assert "Per minute | E-scooter: $0.39" in reply and "$0.12" not in reply, reply
    assert grounding == {"supported": True}, grounding


@pytest.fixture(scope="module")
def kennel():
    yield from in_memory({"kennel.md": KENNEL})


@pytest.mark.parametrize("question, cell, others", [
    ("我家狗大概15公斤，放你们那住一晚要多少钱？", "中型犬（10–25公斤） | 每晚价格：110元", ("500元", "80元", "150元")),
    ("我那只金毛三十多公斤，寄养押金得交多少？", "大型犬（25公斤以上） | 入住押金：500元", ("300元", "150元")),
])
def test_the_row_the_quantity_falls_in_and_the_column_the_question_names(kennel, question, cell, others):
    reply, grounding = composed(kennel, question)
    assert cell in reply and not any(v in reply for v in others), reply
    assert grounding == {"supported": True}, grounding
