"""Library answers through a live server (#31): a base model's value question answered by the clause of the
evidence itself, cited, with done.answer; rivals all named and flagged; an instruction model's path unchanged;
a yes or a no checked against what the evidence says."""
from __future__ import annotations

import pytest

from tests.live import chat, library_of

ADMIN = "adm1n"
CLINIC = """# 明德口腔诊所就诊指南
## 收费标准
- 普通号挂号费每次25元，专家号挂号费每次60元。
- 超声波洁牙每次180元。
## 科室
- 正畸科位于四楼，由林晓岚医生负责。
""".encode()
CARD = """# 滨江区图书馆读者证须知
## 借阅规则
- 期刊借期7天，不可续借。
- 馆内禁止饮食。
""".encode()


@pytest.fixture(scope="module")
def server(stub, tmp_path_factory):
    """The stub upstream as the default backend (an instruction model), a tiny base model as "local"."""
    documents = ("clinic.md", CLINIC), ("card.md", CARD)
    s = library_of(stub, str(tmp_path_factory.mktemp("library-answers")), ADMIN, documents)
    yield s
    s.stop()


def ask(server, message, **fields):
    return chat(server, message, knowledge=True, **fields)


def cited(body) -> int:
    return next(s["n"] for s in body["sources"] if s["title"] == "clinic.md")


def test_a_base_model_s_value_question_is_answered_by_the_clause(server, make_client):
    client = make_client(server.url)
    request = client.chat("洁牙一次多少钱？", backend="local", knowledge=True)
    done = client.wait_done(request)
    n = cited(done)
    # The clause that answers, not its passage (no 25元 or 60元), cited, in the question's language.
    assert done["text"] == f"根据资料[{n}]：超声波洁牙每次180元。", done
    assert done["answer"] == {"from": "passages", "passages": [n]} and done["grounding"] == {"supported": True}
    assert client.text_of(request) == done["text"]  # streamed as tokens, then one done
    body = ask(server, "Which floor is 正畸科 on?", backend="local")  # English frame, the document's own words
    assert body["text"].startswith("According to [") and "正畸科位于四楼" in body["text"], body
    assert body["answer"]["from"] == "passages"


def test_rivals_are_all_named_and_flagged(server):
    body = ask(server, "挂号费是多少钱？", backend="local")  # 普通 or 专家: the question cannot tell
    assert "25元" in body["text"] and "60元" in body["text"], body
    assert body["grounding"]["supported"] is False
    quote = body["grounding"]["quote"]
    assert "25元" in quote["sentence"] and "60元" in quote["sentence"]
    assert body["answer"] == {"from": "passages", "passages": [cited(body)]}


def test_an_instruction_model_writes_its_reply_and_is_checked(server):
    body = ask(server, "洁牙一次多少钱？", model="extract")
    assert "answer" not in body and "180" in body["text"], body
    body = ask(server, "洁牙一次多少钱？", model="say:洁牙一次100元。")
    assert "answer" not in body and body["grounding"]["supported"] is False


def test_a_question_no_clause_clearly_answers_is_left_to_the_model(server):
    # "What is she good at" asks for no value or name: the base model writes (the tiny one writes noise), checked.
    body = ask(server, "林晓岚医生擅长什么？", backend="local", params={"max_tokens": 4})
    assert "answer" not in body and body["sources"], body


def test_a_yes_or_no_is_checked_against_the_clause_that_says_it(server):
    no = ask(server, "期刊可以续借吗？", model="say:可以，期刊可以续借一次。")
    assert no["grounding"]["supported"] is False, no  # the evidence says 不可续借
    assert "不可续借" in no["grounding"]["quote"]["sentence"]
    yes = ask(server, "期刊可以续借吗？", model="say:不可以，期刊不可续借。")
    assert yes["grounding"] == {"supported": True}, yes
    unsaid = ask(server, "图书馆可以用医保卡吗？", model="say:可以。")  # nothing in the evidence says either
    assert unsaid["sources"] and unsaid["grounding"]["supported"] is False, unsaid
    composed = ask(server, "期刊可以续借吗？", backend="local")  # a base model: the clause quoted
    assert composed["text"].startswith("不可以。根据资料[") and "期刊借期7天，不可续借" in composed["text"], composed
    assert composed["grounding"] == {"supported": True}


def _passage(n: int, title: str, text: str) -> dict:
    return {"n": n, "title": title, "text": text}


def test_a_value_from_a_passage_about_something_else_is_flagged():
    from server.knowledge.grounding import check

    # An English question about a dental implant's deposit; the library showed a swim school's fees.
    swim = _passage(1, "swim-school.md", "## Fees\n- New families pay a one-time registration fee of $35.")
    shown = "Evidence:\n[1] (swim-school.md) New families pay a one-time registration fee of $35."
    question = "How much deposit do I need to pay before a dental implant?"
    assert check("Deposit: $35.", question, [swim], shown)["supported"] is False
    # The same reply to the question that passage is about stands.
    assert check("The registration fee is $35.", "How much is the registration fee for new families?", [swim],
                 shown) == {"supported": True}
    # A passage in another language shares no words and is not judged by its words.
    pool = _passage(1, "cedar-pool.md", "A single swim for children costs 3 dollars.")
    shown = f"Evidence:\n[1] (cedar-pool.md) {pool['text']}"
    assert check("儿童游泳一次3美元。", "儿童游泳一次多少钱？", [pool], shown) == {"supported": True}


def test_a_who_question_answered_with_its_own_words_names_nobody():
    from server.knowledge.grounding import unsupported

    shown = "Evidence:\n[1] (swim.md) The Teen Stroke Clinic is run by Coach Tom O'Hara."
    assert unsupported("泳姿班是青少年的泳姿班。", "青少年泳姿班是哪位教练带的？", shown) == ["(no name)"]
    assert unsupported("青少年泳姿班由Tom O'Hara教练带。", "青少年泳姿班是哪位教练带的？", shown) == []


def test_a_day_named_in_other_words_picks_its_clause():
    from server.knowledge.rivals import candidates

    shown = "Evidence:\n[1] (clinic.md) 周一至周五 8:30—17:30，周六 9:00—12:00，周日休息。"
    found = candidates("诊所星期六几点关门？", shown)  # 星期六 is 周六: that clause, not the weekdays' hours
    assert found.values == {"9:00", "12:00"} and not found.ambiguous
