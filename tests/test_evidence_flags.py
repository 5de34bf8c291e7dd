"""What the check flags in a library reply (#25, #31): rival values, a name of the wrong clause or of no passage, a
wrong weekday, every rate copied, times for a room."""
from __future__ import annotations

from tests.kb_files import upload
from tests.test_evidence import ask

DENTAL = ("# 康宁口腔医院\n\n## 挂号\n普通号挂号费为15元，主任医师号挂号费为60元。"
          "正畸科的主任医师是赵明华，每周一上午出诊。"
          "口腔外科的主任医师是孙立平，每周五全天出诊。\n\n## 科室\n消化内科在门诊楼三楼。\n")


def test_rival_values_a_name_of_the_wrong_clause_and_a_chinese_name_absent_are_flagged(stub, make_server):
    server = make_server("--backend", "openai", "--base-url", stub.url, "--store", "memory", "--rate-per-minute", "0",
                         "--rate-per-minute-ip", "0")
    status, body = upload(server.url, "dental.md", DENTAL.encode())
    assert status == 200, body
    # Two fees that the question cannot tell apart: one of them stated alone is a guess; the quote shows both.
    g = ask(server.url, "挂号费是多少？", "挂号费为60元 [1]。")["grounding"]
    assert g["supported"] is False and g["quote"]["kind"] == "passage" and g["quote"]["title"] == "dental.md"
    assert "15元" in g["quote"]["sentence"] and "60元" in g["quote"]["sentence"]
    assert ask(server.url, "挂号费是多少？", "普通号15元，主任医师号60元 [1]。")["grounding"] == {"supported": True}
    assert ask(server.url, "主任医师号的挂号费是多少？", "60元 [1]。")["grounding"] == {"supported": True}
    assert ask(server.url, "主任医师号的挂号费是多少？", "15元 [1]。")["grounding"]["supported"] is False
    # A name of the evidence, but of the other clause; a name the knowledge does not hold at all.
    assert ask(server.url, "正畸科的主任医师是谁？", "赵明华 [1]。")["grounding"] == {"supported": True}
    wrong = ask(server.url, "正畸科的主任医师是谁？", "孙立平 [1]。")["grounding"]
    assert wrong["supported"] is False and "赵明华" in wrong["quote"]["sentence"]
    assert ask(server.url, "正畸科的主任医师是谁？", "张志刚 [1]。")["grounding"]["supported"] is False
    absent = ask(server.url, "消化内科在哪里？", "胃科在门诊楼三楼 [1]。")["grounding"]
    assert absent["supported"] is False and "消化内科" in absent["quote"]["sentence"]
    assert ask(server.url, "消化内科在哪里？", "消化内科在门诊楼三楼 [1]。")["grounding"] == {"supported": True}


RENTAL = ("# Lakeside Boat Rental\n\n## Rates\nA kayak costs 12 dollars per hour or 45 dollars per day.\n\n## Days\n"
          "The rental is open from Tuesday to Sunday and closed on Mondays.\n")


def test_a_wrong_weekday_and_a_reply_copying_every_rate_are_flagged(stub, make_server):
    server = make_server("--backend", "openai", "--base-url", stub.url, "--store", "memory", "--rate-per-minute", "0",
                         "--rate-per-minute-ip", "0")
    for name, text in (("dental.md", DENTAL), ("rental.md", RENTAL)):
        status, body = upload(server.url, name, text.encode())
        assert status == 200, body
    # A day is a value: the other doctor's day, or a day the evidence never names, is flagged with the quote.
    for reply in ("每周一出诊 [1]。", "每周三出诊 [1]。"):
        g = ask(server.url, "口腔外科的主任医师哪天出诊？", reply)["grounding"]
        assert g["supported"] is False and "周五" in g["quote"]["sentence"], (reply, g)
    assert ask(server.url, "口腔外科的主任医师哪天出诊？", "每周五全天出诊 [1]。")["grounding"] == {"supported": True}
    assert ask(server.url, "口腔外科的主任医师哪天出诊？", "星期五 [1]。")["grounding"] == {"supported": True}
    assert ask(server.url, "On which day is the boat rental closed?", "On Mondays [1].")["grounding"]["supported"]
    closed = ask(server.url, "On which day is the boat rental closed?", "It is closed on Sundays [1].")["grounding"]
    assert closed["supported"] is False and "Mondays" in closed["quote"]["sentence"]
    # A range is the evidence's own or wrong: Tuesday to Saturday would say Sunday is closed.
    narrow = ask(server.url, "Which days is the boat rental open?", "Tuesday to Saturday [1].")["grounding"]
    assert narrow["supported"] is False and "Tuesday to Sunday" in narrow["quote"]["sentence"]
    # Both rates of the sentence for a per-day question: the hourly one does not answer it.
    both = ask(server.url, "How much does a kayak cost per day?", "12 dollars per hour or 45 dollars per day [1].")
    assert both["grounding"]["supported"] is False and "45 dollars per day" in both["grounding"]["quote"]["sentence"]
    assert ask(server.url, "How much does a kayak cost per day?", "45 dollars [1].")["grounding"] == {"supported": True}
    assert ask(server.url, "How much does a kayak cost per day?", "12 dollars [1].")["grounding"]["supported"] is False
    # The right number under the wrong unit: 12 is the kayak's hourly rate, never its daily one.
    hourly = ask(server.url, "How much does a kayak cost per hour?", "12 dollars per hour, 12 dollars per day [1].")
    assert hourly["grounding"]["supported"] is False
    assert ask(server.url, "How much does a kayak cost per hour?", "12 dollars per hour [1].")["grounding"]["supported"]


def test_a_room_question_answered_with_times_is_flagged():
    from server.knowledge.grounding import unsupported

    shown = "Evidence:\n[1] (course-ds.md) 本课程共十八周，每周二上午10:00在信息楼405教室上课。"
    assert unsupported("课上10:00-12:00 [1]。", "数据结构课在哪个教室上课？", shown) == ["(no room)"]
    assert unsupported("在406教室 [1]。", "数据结构课在哪个教室上课？", shown) == ["406"]
    assert unsupported("在信息楼405教室上课 [1]。", "数据结构课在哪个教室上课？", shown) == []
