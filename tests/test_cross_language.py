"""Questions about a document in the other language (#31), through a live server: a Chinese question about an English
document and an English question about a Chinese one get the clause that answers, cited; a reply that states another
value is flagged; a question neither document answers stays unanswered."""
from __future__ import annotations

import pytest

from tests.live import chat, library_of

ADMIN = "adm1n"
SCHOOL = b"""# Northside Adult School: Evening Classes

The school office is in Room 12 of the Main Building.

## Classes This Spring
- Conversational French: 8 weeks, Monday and Wednesday, 7:00 to 9:00 pm. Tuition is $150.
- Watercolour Painting: 6 weeks, Saturday mornings. Tuition is $120 and a $25 paint fee.

## Rules
- Every student pays a $20 registration fee each term.
"""
BIKES = b"""# Harbour Bike Rental

A city bike costs 5 dollars per hour or 20 dollars per day. An electric bike costs 9 dollars per hour.
Every rental needs a 50 dollar deposit, returned with the bike. We are open from 8:00 to 19:00 every day.
"""
CLINIC = """# 安心宠物医院 就诊须知

## 收费标准
- 狂犬疫苗：80 元/针；猫三联疫苗：130 元/针。
- 洗澡：小型犬 70 元/次，大型犬 140 元/次。

## 联系方式
- 前台分机 601，美容中心分机 603，住院部分机 605。
""".encode()


@pytest.fixture(scope="module")
def server(stub, tmp_path_factory):
    """The stub upstream as the default backend (an instruction model), a tiny base model as "local"."""
    documents = ("adult-school.md", SCHOOL), ("bike-rental.md", BIKES), ("pet-clinic.md", CLINIC)
    s = library_of(stub, str(tmp_path_factory.mktemp("cross-language")), ADMIN, documents)
    yield s
    s.stop()


def ask(server, message, **fields):
    return chat(server, message, knowledge=True, **fields)


def cited(body, title: str) -> int:
    return next(s["n"] for s in body["sources"] if s["title"] == title)


def test_a_chinese_question_gets_the_english_clause_that_answers(server):
    body = ask(server, "法语口语课一周上哪几天？", backend="local")  # which days is the French class?
    n = cited(body, "adult-school.md")
    assert body["text"].startswith(f"根据资料[{n}]：") and "Monday and Wednesday" in body["text"], body
    assert "Saturday" not in body["text"]  # not the painting class's day
    assert body["answer"] == {"from": "passages", "passages": [n]} and body["grounding"] == {"supported": True}
    body = ask(server, "租电动自行车每小时多少钱？", backend="local")  # the electric bike's rate, not the city bike's
    n = cited(body, "bike-rental.md")
    assert body["text"] == f"根据资料[{n}]：An electric bike costs 9 dollars per hour。", body


def test_an_english_question_gets_the_chinese_clause_that_answers(server):
    body = ask(server, "How much is a rabies shot?", backend="local")
    n = cited(body, "pet-clinic.md")
    assert body["text"] == f"According to [{n}]: 狂犬疫苗：80 元/针.", body  # not the cat vaccine's 130
    assert body["answer"] == {"from": "passages", "passages": [n]} and body["grounding"] == {"supported": True}


def test_an_instruction_model_s_reply_is_checked_against_the_other_language(server):
    wrong = ask(server, "法语口语课一周上哪几天？", model="say:法语课每周二和周四上课。")
    assert wrong["grounding"]["supported"] is False, wrong
    assert "Monday and Wednesday" in wrong["grounding"]["quote"]["sentence"]
    right = ask(server, "法语口语课一周上哪几天？", model="say:法语课每周一和周三上课。")
    assert right["grounding"] == {"supported": True}, right
    wrong = ask(server, "How much is a rabies shot?", model="say:A rabies shot costs 130 yuan.")
    assert wrong["grounding"]["supported"] is False and "80" in wrong["grounding"]["quote"]["sentence"], wrong


def test_a_question_no_document_answers_stays_unanswered(server):
    for question, reply in (("What time does the swimming pool open?", "Not found in the knowledge base."),
                            ("What is the Wi-Fi password?", "Not found in the knowledge base.")):
        body = ask(server, question, backend="local")
        assert body["text"] == reply and not body.get("sources"), body


def test_words_count_across_languages_only():
    from server.knowledge.bilingual import shared

    assert shared({"押金"}, ["refundable", "tool", "deposit"]) == {"押金"}
    assert shared({"rabies", "shot"}, ["狂犬", "疫苗", "狂犬疫苗"]) == {"rabies"}
    assert shared({"费用"}, ["收费"]) == set()  # within one language a word is only itself
    assert shared({"weeks"}, ["weeks"]) == {"weeks"}
