"""Paired cells and a percentage of an amount the question states (#31): a table row whose label lists
alternatives ("清洗（挂机 / 柜机）") and whose value lists as many ("80元 / 120元") is answered with the value of
the alternative the question names; a deposit that is a percentage of a price the question states is written out
as a sum, its minimum applied, and the check backs it only on the evidence's and the question's numbers."""
from __future__ import annotations

import pytest

from server.knowledge.compose import compose
from server.knowledge.grounding import check, evidence_style
from tests.memory_library import in_memory
from tests.test_compose_sums import BASE, CHAT, composed

SHOP = """# 顺达家电维修 价目
## 维修价格（人工费）
| 家电 | 项目 | 价格 |
|---|---|---|
| 热水器 | 除垢（储水式 / 即热式） | 90元 / 150元 |
| 电视 | 换屏（小屏 / 大屏） | 300元 / 500元 |
| 冰箱 | 检修 | 160元 |
## 优惠与订购配件
- 年满 65 周岁的老人凭身份证享受人工费 8 折。
- 需订购的配件，须先付配件价的 40% 作为定金，最低 30元。
"""
THEATRE = """# Rosemary Theatre: Tickets
## Prices
| Show | Seat | Price |
|---|---|---|
| Matinee | Stalls (adult/child) | £28 / £22 |
| Evening | Circle | £35 |
## Group bookings
- Group bookings must pay 25% of the total as a deposit, minimum £20.
"""


@pytest.fixture(scope="module")
def library():
    yield from in_memory({"shop.md": SHOP, "theatre.md": THEATRE})


@pytest.mark.parametrize("question, said, other", [
    ("家里的即热式热水器想除垢，人工要多少钱？", "除垢（即热式）：150元", "90元"),
    ("储水式热水器除垢多少钱？", "除垢（储水式）：90元", "150元"),
    ("How much is a child's ticket for the matinee in the stalls?", "Stalls (child): £22", "£28"),
])
def test_the_alternative_the_question_names_picks_its_value(library, question, said, other):
    reply, grounding = composed(library, question)
    assert said in reply and other not in reply, reply
    assert grounding == {"supported": True}, grounding


@pytest.mark.parametrize("question, said, sum_", [
    ("我妈今年70了，家里即热式热水器要除垢，人工费打完折多少钱？", "除垢（即热式）：150元", "150元 × 0.8 = 120元"),
    ("My mum is 70. How much is a child's matinee ticket in the stalls for her?", None, None),
])
def test_a_discount_off_the_paired_value_the_question_names(library, question, said, sum_):
    shown, sources = library.ground(question, evidence_style("auto", BASE))
    found = compose(question, shown, sources)
    reply = found.reply if found else ""
    if said is None:  # no discount for her in the theatre's document: no sum
        assert "=" not in reply, reply
        return
    assert said in reply and sum_ in reply and "90元" not in reply, reply


@pytest.mark.parametrize("question, sum_", [
    ("配件要订，价格大概250块，要先交多少定金？", "250元 × 40% = 100元"),
    ("配件大概50块，得先交多少定金？", "50元 × 40% = 20元，低于最低30元，按30元"),
])
def test_a_percentage_of_the_amount_the_question_states_is_written_out(library, question, sum_):
    # The composed reply's check (asked_document.pointed_elsewhere) still flags it: left for that check.
    reply, _ = composed(library, question)
    assert sum_ in reply and "最低 30元" in reply and "[1]" in reply, reply


@pytest.mark.parametrize("reply, supported", [
    ("须先付 250元 × 40% = 90元 定金[1]。", False),  # a wrong result
    ("须先付 250元 × 30% = 75元 定金[1]。", False),  # a percentage the evidence does not give
    ("须先付 400元 × 40% = 160元 定金[1]。", False),  # an amount neither the question nor the evidence states
])
def test_a_models_percentage_sum_is_not_backed_off_the_evidence_and_the_question(library, reply, supported):
    question = "配件要订，价格大概250块，要先交多少定金？"
    shown, sources = library.ground(question, evidence_style("auto", CHAT))
    assert check(reply, question, sources, shown)["supported"] is supported, reply
