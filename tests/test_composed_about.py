"""A library answer composed for a base model (#31) is about what the question asks, through a live server: not a
clause that shares only the document's own name, nor a price of something else than the deposit asked, nor a
clause naming nobody for a who-question, nor one with no number for a phone question; quoted without Markdown."""
from __future__ import annotations

import pytest

from tests.live import chat, library_of

ADMIN = "adm1n"
LIBRARY = """# 柳岸社区图书馆 读者须知
柳岸社区图书馆位于桃源街道柳岸路 88 号文化中心的一楼和二楼。
## 开放时间
- 周二至周日：9:00–20:00
- 周一闭馆。
## 借阅
- 每张读者证最多借 8 本书，借期 21 天。
- 逾期每本每天罚款 0.2 元。
## 服务
- 柳岸社区图书馆的打印服务每页 0.5 元。
- 少儿阅览室在二楼，由孙晓梅老师负责。
""".encode()
GYM = """# Summit Ridge Bouldering: Member Guide
Summit Ridge Bouldering is at 14 Mill Lane, open seven days a week.
## Prices
- Day pass: £12.
- **Monthly membership**: £45 per month.
- Lockers: £10 per month for long-term rental.
## Rules
- A locker key needs a refundable deposit, paid in cash at the desk.
## Juniors
- **Junior Club** (ages 8–14) — Sundays 10:00am – 12:00pm.
""".encode()
NOT_FOUND = ("知识库中没有找到明确的答案", "Not found plainly")


@pytest.fixture(scope="module")
def server(stub, tmp_path_factory):
    """The stub upstream as the default backend, a tiny base model as "local" (whose own replies are not composed)."""
    documents = ("liuan-library.md", LIBRARY), ("summit-ridge.md", GYM)
    s = library_of(stub, str(tmp_path_factory.mktemp("composed-about")), ADMIN, documents)
    yield s
    s.stop()


def ask(server, message):
    return chat(server, message, knowledge=True, backend="local")


def stated(body) -> bool:
    """Whether the reply states a clause as the answer (composed, and not "not found plainly")."""
    return (body.get("answer") or {}).get("from") == "passages" and not body["text"].startswith(NOT_FOUND)


def test_the_documents_own_name_does_not_make_a_clause_the_answer(server):
    # The printing price names the library, as the question does, and says nothing of parking.
    body = ask(server, "开车去柳岸图书馆，停车费怎么算？")
    assert not stated(body) and "0.5 元" not in body["text"].split("最接近的是")[0], body
    # Asked about printing, the same clause is the answer.
    body = ask(server, "柳岸图书馆打印一页多少钱？")
    assert stated(body) and "0.5 元" in body["text"] and body["grounding"] == {"supported": True}, body


def test_a_named_value_is_answered_only_by_a_clause_that_gives_it(server):
    body = ask(server, "If I rent a locker long-term, how much is the deposit for the key?")
    assert not stated(body), body  # the locker's £10 a month is its rent, not its key's deposit
    body = ask(server, "图书逾期每本每天罚款多少元？")  # the fine named, the fine given
    assert stated(body) and "0.2 元" in body["text"], (body["text"], body.get("answer"))


def test_a_who_question_needs_a_name_and_a_phone_question_a_number(server):
    body = ask(server, "Who runs the junior climbing sessions on Sunday mornings?")
    assert not stated(body), body  # "Junior Club (ages 8–14) — Sundays ..." names nobody
    for question in ("少儿阅览室的电话是多少？", "What's the phone extension for the junior climbing sessions?"):
        body = ask(server, question)
        assert not stated(body), body  # a floor and a session's hours are no number to call


def test_a_quoted_clause_has_no_markdown(server):
    body = ask(server, "How much is the monthly membership?")
    assert stated(body) and "Monthly membership: £45 per month" in body["text"] and "*" not in body["text"], body
