"""More library answers composed for base models (#31), through a live server: a yes/no question that negates
(可以不戴泳帽吗) or names a condition (I'm 70, my 8-year-old son) answered from the clause that names it, a floor
written as an ordinal, a day named in other words (礼拜天 for 周日), "not found plainly" where nothing is about a
value question; and an instruction model's reply checked the same way."""
from __future__ import annotations

import pytest

from tests.live import chat, library_of

ADMIN = "adm1n"
ARTS = """# Harbor Arts Centre: Visitor Guide
The pottery studio is on the third floor and the dance hall is on the first floor.
## Rules
- Children under 12 are not allowed in the pottery studio.
- Members aged 65 and over get 30% off all courses.
- Visitors do not need to book a garden tour.
""".encode()
CENTRE = """# 青松社区活动中心 须知
## 开放时间
- 周一至周五：8:00–21:00
- 周六：9:00–18:00
- 周日：10:00–15:00
## 规则
- 进入游泳馆必须戴泳帽。
- 活动室内禁止吸烟。
## 收费
- 乒乓球台：20 元/小时。
""".encode()


@pytest.fixture(scope="module")
def server(stub, tmp_path_factory):
    """The stub upstream as the default backend (an instruction model), a tiny base model as "local"."""
    documents = ("arts-centre.md", ARTS), ("community-centre.md", CENTRE)
    s = library_of(stub, str(tmp_path_factory.mktemp("composed-answers")), ADMIN, documents)
    yield s
    s.stop()


def ask(server, message, **fields):
    return chat(server, message, knowledge=True, **fields)


def test_a_negated_yes_no_question_is_answered_from_the_rule(server):
    body = ask(server, "我很会游泳，进游泳馆可以不戴泳帽吗？", backend="local")
    assert body["text"].startswith("不可以。根据资料[") and "必须戴泳帽" in body["text"], body
    assert body["grounding"] == {"supported": True} and body["answer"]["from"] == "passages"
    body = ask(server, "Do I need to book a garden tour?", backend="local")
    assert body["text"].startswith("No. According to [") and "do not need to book" in body["text"], body


def test_a_condition_is_answered_only_by_the_clause_that_names_it(server):
    body = ask(server, "I'm 70 years old. Do I get a discount on courses?", backend="local")
    assert body["text"].startswith("Yes. According to [") and "30% off" in body["text"], body
    body = ask(server, "Can I bring my 8-year-old son to the pottery studio? He is quiet.", backend="local")
    assert body["text"].startswith("No. According to [") and "Children under 12" in body["text"], body
    # 40 is not 65 and over: no clause says yes to it, so a model's yes is flagged, with the rule quoted.
    body = ask(server, "I'm 40 years old. Do I get a discount on courses?", model="say:Yes, you do.")
    assert body["grounding"]["supported"] is False and "65 and over" in body["grounding"]["quote"]["sentence"], body
    # A reply to a yes/no question that says neither is flagged too.
    body = ask(server, "Can I bring my 8-year-old son to the pottery studio?", model="say:The studio is upstairs.")
    assert body["grounding"]["supported"] is False, body


def test_an_ordinal_floor_and_a_day_in_other_words_are_composed(server):
    body = ask(server, "Which floor is the pottery studio on?", backend="local")
    assert body["text"].startswith("According to [") and "pottery studio is on the third floor" in body["text"]
    assert "first floor" not in body["text"], body
    where = ask(server, "Where is the pottery studio?", backend="local")  # a where-question's floor, the same
    assert where["text"] == body["text"], where
    body = ask(server, "礼拜天活动中心几点关门？", backend="local")  # 礼拜天 is the document's 周日
    assert body["text"].startswith("根据资料[") and "15:00" in body["text"] and "21:00" not in body["text"], body


def test_a_value_question_nothing_answers_says_so_with_the_nearest_sentence(server):
    body = ask(server, "游泳馆的储物柜押金是多少钱？", backend="local")
    assert body["text"].startswith("知识库中没有找到明确的答案。最接近的是["), body
    # No value of its own: only the quoted sentence after "最接近的是[n]：" holds numbers.
    assert not any(ch.isdigit() for ch in body["text"].split("最接近的是")[0]), body
    assert body["answer"]["from"] == "passages" and body["grounding"] == {"supported": True}, body


def _passage(n: int, title: str, text: str) -> dict:
    return {"n": n, "title": title, "text": text}


def test_a_value_only_other_documents_hold_is_flagged_when_the_question_names_its_document():
    from server.knowledge.grounding import check

    college = _passage(1, "evening-college.md", "- Help with a forgotten password: IT help line, ext. 2290.")
    hostel = _passage(2, "youth-hostel.md", "- Lockers are free; bring your own padlock.")
    shown = "Evidence:\n[1] (evening-college.md) Help with a forgotten password: IT help line, ext. 2290."
    # 2290 shares "password" with the question, but it is the college's, and the question names the hostel.
    got = check("The hostel's Wi-Fi password is 2290.", "What's the Wi-Fi password at the hostel?",
                [college, hostel], shown)
    assert got["supported"] is False, got
    assert check("The IT help line is ext. 2290.", "What's the IT help line's extension at the college?",
                 [college, hostel], shown) == {"supported": True}


def test_a_who_question_s_name_is_not_a_sentence_s_first_word():
    from server.knowledge.rivals import candidates

    shown = ("Evidence:\n[1] (club.md) New members should write to the organiser, Oliver Grant, before the meeting.\n"
             "[2] (club.md) After the second meeting, members vote.")
    found = candidates("Who should new members write to?", shown)
    assert found.values == {"Oliver", "Grant"}, found


def test_a_condition_in_a_value_question_picks_the_clause_that_names_it():
    from server.knowledge.compose import compose
    from server.knowledge.grounding import unsupported

    line = "Adults may take up to 5 art kits home, children up to 2."
    shown = f"Evidence:\n[1] (arts.md) {line}"
    question = "How many art kits can a child take home?"
    got = compose(question, shown, [{"n": 1, "title": "arts.md", "text": line}])
    assert got is not None and got.reply == "According to [1]: Adults may take up to … children up to 2.", got
    assert unsupported("A child may take 2 art kits.", question, shown) == []
    assert unsupported("A child may take 5 art kits.", question, shown) == ["5"]
    # Without the condition the adults' clause, which shares more of the question, answers.
    adults = compose("How many art kits can I take home?", shown, [{"n": 1, "title": "arts.md", "text": line}])
    assert adults is not None and "5 art kits" in adults.reply, adults
