"""The check of a reply the model wrote (#31): a value whose sentence about the question was not shown, a
who-question answered by nobody or by the question itself, and an exit, gate or window code of either language
that the evidence about the question does not give, are flagged; the right replies are not."""
from __future__ import annotations

from server.knowledge.grounding import check


def _shown(*lines: str) -> str:
    return "Evidence:\n" + "\n".join(f"[1] (studio.md) {line}" for line in lines)


POTTERY = [{"n": 1, "title": "studio.md", "text": "# Clay Corner Studio\n## Courses\nThe wheel taster lasts 2 hours. "
            "Our beginners' pottery course runs over six weeks and costs 120 dollars, clay included.\n"
            "## Kids\nKids' club: 30 dollars a month."}]


def test_a_value_from_a_sentence_about_another_thing_is_flagged_when_the_right_one_was_not_shown():
    question = "How much is the beginners' pottery course?"
    # The ranker showed the kids' club alone: its 30 is the best the shown sentences hold, not the course's price.
    wrong = check("$30.", question, POTTERY, _shown("Kids' club: 30 dollars a month."))
    assert wrong["supported"] is False and "120 dollars" in wrong["quote"]["sentence"]
    both = _shown("Our beginners' pottery course runs over six weeks and costs 120 dollars, clay included.",
                  "Kids' club: 30 dollars a month.")
    assert check("The beginners' course costs 120 dollars [1].", question, POTTERY, both) == {"supported": True}
    assert check("Kids' club costs 30 dollars a month [1].", "How much is the kids' club?", POTTERY,
                 both) == {"supported": True}


def test_a_price_held_only_as_another_kind_of_number_is_flagged():
    gym = [{"n": 1, "title": "gym.md", "text": "Induction sessions last 30 minutes and are free for members."}]
    shown = "Evidence:\n[1] (gym.md) Induction sessions last 30 minutes and are free for members."
    assert check("$30.", "How much does the induction cost?", gym, shown)["supported"] is False
    assert check("30 minutes [1].", "How long is the induction?", gym, shown) == {"supported": True}


CENTRE = [{"n": 1, "title": "community-centre.md",
           "text": "- 机房的电脑上不了网，请找网络管理员李建国（分机215）。\n- 借书、还书请到一楼服务台。\n"
                   "- Wi-Fi problems: ask Tomasz Nowak at the front desk."}]
CENTRE_SHOWN = "Evidence:\n" + "\n".join(f"[1] (community-centre.md) {line[2:]}"
                                         for line in CENTRE[0]["text"].splitlines())


def test_a_who_question_answered_by_nobody_or_by_itself_is_flagged():
    question = "机房的电脑上不了网，该找哪个工作人员？"
    assert check(question, question, CENTRE, CENTRE_SHOWN)["supported"] is False  # the question said again
    assert check("请找服务台的工作人员。", question, CENTRE, CENTRE_SHOWN)["supported"] is False  # names nobody
    assert check("请找网络管理员李建国 [1]。", question, CENTRE, CENTRE_SHOWN) == {"supported": True}
    english = "My laptop won't connect to the Wi-Fi, which member of staff should I ask?"
    assert check("Ask a member of staff at the front desk.", english, CENTRE, CENTRE_SHOWN)["supported"] is False
    assert check("Ask Tomasz Nowak [1].", english, CENTRE, CENTRE_SHOWN) == {"supported": True}


def test_a_reply_that_only_says_the_question_again_is_flagged():
    assert check("一楼服务台在哪里办借书？", "在哪里办借书？", CENTRE, CENTRE_SHOWN)["supported"] is True  # a new word
    assert check("在哪里办借书。", "在哪里办借书？", CENTRE, CENTRE_SHOWN)["supported"] is False
    from server.knowledge.echo import echoes

    assert not echoes("可以借书。", "可以借书吗？")  # a yes/no question's yes may take every word from it
    assert not echoes("周日。", "读书会在周六还是周日？")  # nor the choice a question offers


TERMINAL = [{"n": 1, "title": "ferry-terminal.md", "text": "## 中文\n出租车在A出口等候。售票在3号窗口。\n"
             "## English\nThe airport bus leaves from Exit D. Taxis wait at Exit A. Tickets: Window 3."}]
TERMINAL_SHOWN = ("Evidence:\n[1] (ferry-terminal.md) 出租车在A出口等候。\n"
                  "[1] (ferry-terminal.md) The airport bus leaves from Exit D.\n"
                  "[1] (ferry-terminal.md) Taxis wait at Exit A.")


def test_an_exit_code_the_evidence_about_the_question_does_not_give_is_flagged_in_either_language():
    question = "去机场的大巴在哪个出口坐？"
    assert check("机场大巴在A出口。", question, TERMINAL, TERMINAL_SHOWN)["supported"] is False  # the taxis' exit
    assert check("机场大巴在B出口。", question, TERMINAL, TERMINAL_SHOWN)["supported"] is False  # no such exit
    assert check("机场大巴在D出口 [1]。", question, TERMINAL, TERMINAL_SHOWN) == {"supported": True}  # = Exit D
    english = "Which exit does the airport bus leave from?"
    assert check("The airport bus leaves from Exit A.", english, TERMINAL, TERMINAL_SHOWN)["supported"] is False
    assert check("Exit D [1].", english, TERMINAL, TERMINAL_SHOWN) == {"supported": True}
    assert check("Taxis wait at Exit A [1].", "Where do taxis wait?", TERMINAL, TERMINAL_SHOWN) == {"supported": True}
    assert check("Gate 5.", "Where do taxis wait?", TERMINAL, TERMINAL_SHOWN)["supported"] is False
    from server.knowledge.place_codes import place_codes

    assert place_codes("一家3口报了2门课，在5号门集合。") == {"door:5"}  # people and courses are no places


HARBOUR = [{"n": 1, "title": "harbour-station.md",
            "text": "Tickets are sold at the Service Centre and at the machines in the main hall. Passengers with "
                    "only a passport buy their tickets at Window 8 next to the Lost Property office."}]
HARBOUR_SHOWN = ("Evidence:\n[1] (harbour-station.md) Tickets are sold at the Service Centre and at the machines in "
                 "the main hall.\n[1] (harbour-station.md) Passengers with only a passport buy their tickets at "
                 "Window 8 next to the Lost Property office.")


def test_a_place_from_a_sentence_that_lacks_the_questions_condition_is_flagged():
    question = "I only have a passport, where in Harbour station can I buy my ticket?"
    wrong = check("You can buy your ticket at the Service Centre.", question, HARBOUR, HARBOUR_SHOWN)
    assert wrong["supported"] is False and "Window 8" in wrong["quote"]["sentence"]
    assert check("At Window 8, next to Lost Property [1].", question, HARBOUR, HARBOUR_SHOWN) == {"supported": True}
    # With no condition, the Service Centre answers.
    assert check("At the Service Centre [1].", "Where can I buy a ticket?", HARBOUR,
                 HARBOUR_SHOWN) == {"supported": True}
    zh = [{"n": 1, "title": "harbour-station.md", "text": (
        "车票可在售票厅和自动售票机买。只持护照的旅客请到8号窗口买票。")}]
    zh_shown = "Evidence:\n" + "\n".join(f"[1] (harbour-station.md) {s}。" for s in zh[0]["text"].split("。") if s)
    question = "我只有护照，在港口站哪里买票？"
    assert check("您可以在售票厅买票。", question, zh, zh_shown)["supported"] is False
    assert check("请到8号窗口买票 [1]。", question, zh, zh_shown) == {"supported": True}
    assert check("在售票厅 [1]。", "在哪里买票？", zh, zh_shown) == {"supported": True}
    # A second question is no condition: 哪里候车 does not make the ticket hall wrong.
    assert check("在售票厅 [1]。", "在哪里买票，哪里候车？", zh, zh_shown) == {"supported": True}
