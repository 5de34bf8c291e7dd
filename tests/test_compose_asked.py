"""Replies that answer what was asked (#31): a question of two parts is answered part by part and a reply to one
part is flagged; a deposit or a compensation asked by its verb (押多少, 赔多少) is the value its clause names, not the
price beside it; an event's time (a check-out) comes from that event's clause, not another's (day guests' leaving);
a value the shown clause lacks comes from the passages' clause about the same thing; a reply of another kind than
asked (a price for a phone number, both values of a paired row for one alternative) is flagged."""
from __future__ import annotations

from server.knowledge.compose import compose
from server.knowledge.composed_check import of_composed
from server.knowledge.grounding import answer_numbers, check


def _shown(title: str, *lines: str) -> str:
    return "Evidence:\n" + "\n".join(f"[1] ({title}) {line}" for line in lines)


def _sent(question: str, shown: str, sources: list[dict]):
    """The composed reply and whether it goes out supported."""
    found = compose(question, shown, sources)
    assert found is not None, question
    return found.reply, of_composed(found.grounding, found.reply, question, sources, shown)["supported"]


FLATS = [{"n": 1, "title": "qinghe-flats.md", "text": "# 青禾青年公寓\n## 房型与价格\n- 四人间：每人每月 800元。\n"
          "- 双人间：每人每月 1500元。\n- 入住押金：1000元，退房后7天内退还。"}]
FLATS_SHOWN = _shown("qinghe-flats.md", "双人间：每人每月 1500元。", "四人间：每人每月 800元。",
                     "入住押金：1000元，退房后7天内退还。")
TWO = "我想住双人间，一个月多少钱？入住要交多少押金？"


def test_two_things_asked_are_both_composed_each_from_its_own_clause():
    reply, supported = _sent(TWO, FLATS_SHOWN, FLATS)
    assert "1500元" in reply and "1000元" in reply and "800元" not in reply and supported, reply
    assert reply.count("[1]") == 2  # each value cited


def test_a_reply_to_one_of_two_things_asked_is_flagged():
    assert check("双人间每月1500元。", TWO, FLATS, FLATS_SHOWN)["supported"] is False
    assert check("押金1000元。", TWO, FLATS, FLATS_SHOWN)["supported"] is False
    assert check("双人间每月1500元，押金1000元。", TWO, FLATS, FLATS_SHOWN) == {"supported": True}
    # The number guard lets a model write both.
    assert {"1500", "1000"} <= set(answer_numbers(TWO, FLATS_SHOWN))


HALL = [{"n": 1, "title": "hall.md", "text": "# 松涛球馆\n## 器材租借\n- 网球拍租借 15元/支/次，押金 200元。\n"
         "- 损坏网球拍按 300元 赔偿。"}]
HALL_SHOWN = _shown("hall.md", "网球拍租借 15元/支/次，押金 200元。", "损坏网球拍按 300元 赔偿。")


def test_a_deposit_asked_by_its_verb_is_the_deposit_not_the_rent_beside_it():
    question = "租一支网球拍要押多少钱？"
    reply, supported = _sent(question, HALL_SHOWN, HALL)
    assert "200元" in reply and "15元" not in reply and supported, reply
    assert check("15元。", question, HALL, HALL_SHOWN)["supported"] is False
    assert check("押金200元。", question, HALL, HALL_SHOWN) == {"supported": True}


def test_a_compensation_asked_by_its_verb_is_not_the_rent():
    question = "借的网球拍不小心弄坏了，要赔多少？"
    assert check("15元。", question, HALL, HALL_SHOWN)["supported"] is False
    assert check("300元。", question, HALL, HALL_SHOWN) == {"supported": True}


LODGE = [{"n": 1, "title": "pine-lodge.md", "text": "# Pine Ridge Lodges\n## Visitors\n"
          "- Day guests: $8 per adult, and must leave by 8:00 pm.\n## Arrival and departure\n"
          "- Lodges: check-in from 2:00 pm, check-out by 10:30 am."}]
LODGE_SHOWN = _shown("pine-lodge.md", "Day guests: $8 per adult, and must leave by 8:00 pm.",
                     "Lodges: check-in from 2:00 pm, check-out by 10:30 am.")


def test_an_events_time_comes_from_that_events_clause():
    question = "What time do we have to be out of the lodge on the day we leave?"
    assert check("You must leave by 8:00 pm.", question, LODGE, LODGE_SHOWN)["supported"] is False
    assert check("By 2:00 pm.", question, LODGE, LODGE_SHOWN)["supported"] is False  # check-in's
    assert check("By 10:30 am.", question, LODGE, LODGE_SHOWN) == {"supported": True}
    found = compose(question, LODGE_SHOWN, LODGE)
    assert found is None or ("10:30" in found.reply and "8:00" not in found.reply), found


SCHOOL = [{"n": 1, "title": "lotus-school.md", "text": "# Lotus Mandarin School\n## Visa letters\n"
           "- Students who enrol in 10 weeks or more can request a JW202 visa support letter; the fee is 450 yuan.\n"
           "## Housing\n| Room | Price |\n|---|---|\n| Student residence, single room | 2600 yuan/month |"}]
# The evidence chooser showed the letter's rule without its fee (the line cut at ";").
SCHOOL_SHOWN = _shown("lotus-school.md",
                      "Students who enrol in 10 weeks or more can request a JW202 visa support letter;")


def test_a_value_the_shown_clause_lacks_comes_from_the_clause_about_the_same_thing():
    question = "How much does the school charge for the letter I need for my student visa?"
    reply, supported = _sent(question, SCHOOL_SHOWN, SCHOOL)
    assert "450" in reply and "2600" not in reply and supported, reply
    # Where the thing's clauses hold no fee, the residence row beside them is no answer.
    sources = [{**SCHOOL[0], "text": SCHOOL[0]["text"].replace("; the fee is 450 yuan", "")}]
    found = compose("How much does the school charge for the letter I need for my student visa?", SCHOOL_SHOWN,
                    sources)
    assert found is None or "2600" not in found.reply, found


def test_a_price_for_a_phone_number_and_no_length_for_how_long_are_flagged():
    shown = _shown("hall.md", "羽毛球私教：成人 260元/课时。", "私教预约电话 138 5712 9066。")
    sources = [{"n": 1, "title": "hall.md", "text": "- 羽毛球私教：成人 260元/课时。\n- 私教预约电话 138 5712 9066。"}]
    question = "想报羽毛球私教，该打哪个电话问？"
    assert check("羽毛球私教：成人 260元/课时 [1]", question, sources, shown)["supported"] is False
    assert check("学校会出具签证材料 [1]", "签证邀请函要提前多久申请？", sources, shown)["supported"] is False
    english = _shown("hall.md", "Group bookings of 20 or more: call 0571-8826 4418.")
    lines = [{"n": 1, "title": "hall.md", "text": "- Group bookings of 20 or more: call 0571-8826 4418."}]
    question = "We're a school group of 25. Which number should I ring to book?"
    assert check("You can book a group of 25 people.", question, lines, english)["supported"] is False


def test_a_paired_row_quoted_whole_for_one_alternative_is_flagged():
    text = "| 空调 | 清洗（挂机 / 柜机） | 80元 / 120元 |"
    sources = [{"n": 1, "title": "repair.md", "text": "| 家电 | 项目 | 价格 |\n|---|---|---|\n" + text}]
    shown = _shown("repair.md", text)
    question = "家里那台柜机空调想洗一洗，光人工要多少钱？"
    assert check(f"{text} [1]", question, sources, shown)["supported"] is False
