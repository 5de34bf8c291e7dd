"""A reply's clause about another thing than the one asked is flagged (#31): a value of another kind (dates for a
refund), a sibling of the asked thing (large lockers for a bike locker), another row than the one the question
names, a treatment the clinic never writes answered by another's price, a deposit given as a price, and rival values
all listed; the right replies are not."""
from __future__ import annotations

from server.knowledge.asked_noun import asked_noun
from server.knowledge.compose import compose
from server.knowledge.composed_check import of_composed
from server.knowledge.grounding import check


def _shown(title: str, *lines: str) -> str:
    return "Evidence:\n" + "\n".join(f"[1] ({title}) {line}" for line in lines)


def _composed_verdict(reply: str, question: str, sources: list[dict], shown: str) -> bool:
    """Whether a composed reply goes out supported."""
    return of_composed({"supported": True}, reply, question, sources, shown)["supported"]


CAMP = [{"n": 1, "title": "art-camp.md", "text": "# 青苗美术夏令营\n- 活动时间：2025年8月4日至8月15日。\n"
         "- 退费规定：7月1日前退出，退还学费的80%；7月1日以后退出，退还30%。"}]
CAMP_SHOWN = _shown("art-camp.md", "活动时间：2025年8月4日至8月15日。", "7月1日以后退出，退还30%。")


def test_a_refund_answered_with_dates_is_flagged_and_its_share_is_not():
    question = "我7月10号退出，学费能退多少？"
    assert not _composed_verdict("根据资料[1]：活动时间：2025年8月4日至8月15日。", question, CAMP, CAMP_SHOWN)
    assert _composed_verdict("根据资料[1]：7月1日以后退出，退还30%。", question, CAMP, CAMP_SHOWN)
    # A length of time asked, a date said: the same.
    assert not _composed_verdict("根据资料[1]：7月1日以后退出，退还30%。", "报名以后多少天内退出能全额退款？", CAMP,
                                 CAMP_SHOWN)


def test_a_date_the_question_states_picks_the_clause_whose_range_holds_it():
    shown = _shown("art-camp.md", "活动时间：2025年8月4日至8月15日。", "退费规定：7月1日前退出，退还学费的80%；",
                   "7月1日以后退出，退还30%。")
    found = compose("我7月10号退出，学费能退多少？", shown, CAMP)
    assert found is not None and "30%" in found.reply and "80%" not in found.reply, found
    assert found.grounding == {"supported": True}
    found = compose("我6月10号退出，学费能退多少？", shown, CAMP)
    assert found is None or "30%" not in found.reply, found  # before 7月1日: not the later share


LOCKERS = [{"n": 1, "title": "station-guide.md",
            "text": "## Lockers\n- Small lockers cost $2 a day, large lockers $5 a day."}]
LOCKERS_SHOWN = _shown("station-guide.md", "Small lockers cost $2 a day, large lockers $5 a day.")


def test_a_sibling_of_the_thing_asked_is_flagged_and_the_thing_itself_is_not():
    wrong = "According to [1]: large lockers $5 a day."
    assert not _composed_verdict(wrong, "How much is a bike locker for a day?", LOCKERS, LOCKERS_SHOWN)
    assert _composed_verdict(wrong, "How much is a large locker for a day?", LOCKERS, LOCKERS_SHOWN)


FARES = [{"n": 1, "title": "tram-fares.md", "text": "## Fares\n| Ticket | Adult | Child |\n|---|---|---|\n"
          "| Single ride: boarding fee | $2.00 | $1.00 |\n| Season ticket | $90 | $45 |"}]
FARES_SHOWN = _shown("tram-fares.md", "Single ride: boarding fee | Adult: $2.00 | Child: $1.00",
                     "Season ticket | Adult: $90 | Child: $45")


def test_a_cell_of_another_row_than_the_one_the_question_names_is_flagged():
    question = "I already have a season ticket. What do I pay when I board?"
    assert not _composed_verdict("According to [1]: Single ride: boarding fee | Adult: $2.00.", question, FARES,
                                 FARES_SHOWN)
    assert _composed_verdict("According to [1]: Season ticket | Adult: $90.", "How much is an adult season ticket?",
                             FARES, FARES_SHOWN)


CLINIC = [{"n": 1, "title": "ruyi-clinic.md", "document_id": "ruyi", "text": "# 如意医美诊所 价目表\n| 项目 | 价格 |\n"
           "|---|---|\n| 玻尿酸填充（每支） | 3800元 |\n| 光子嫩肤（全脸） | 1200元 |"}]
CLINIC_SHOWN = _shown("ruyi-clinic.md", "玻尿酸填充（每支） | 3800元 |", "光子嫩肤（全脸） | 1200元 |")


def test_a_treatment_the_clinic_never_writes_is_not_answered_by_anothers_price():
    reply = "根据资料[1]：玻尿酸填充（每支） | 3800元。"
    # 热玛吉 has no dictionary gloss, and the clinic writes none of its characters: the filler's price is not its.
    assert not _composed_verdict(reply, "在如意做一次热玛吉要多少钱？", CLINIC, CLINIC_SHOWN)
    assert _composed_verdict(reply, "在如意打一支玻尿酸填充要多少钱？", CLINIC, CLINIC_SHOWN)


SCOOTERS = [{"n": 1, "title": "scoot.md", "text": "## Prices\n- Scooter riders pay a $99 refundable deposit.\n"
             "- A scooter not returned is charged $700."}]
SCOOTERS_SHOWN = _shown("scoot.md", "Scooter riders pay a $99 refundable deposit.",
                        "A scooter not returned is charged $700.")


def test_a_deposit_given_as_a_price_is_flagged():
    # The evidence shown gives no month's price; its deposit is no answer to what the rides cost.
    question = "What would a month of scooter rides cost me?"
    assert check("$99.", question, SCOOTERS, SCOOTERS_SHOWN)["supported"] is False
    assert check("$99.", "How much is the scooter deposit?", SCOOTERS, SCOOTERS_SHOWN) == {"supported": True}


def test_money_put_down_is_a_deposit():
    question = "Do I have to put money down to ride a scooter, and how much?"
    assert asked_noun(question) == "deposit"
    found = compose(question, SCOOTERS_SHOWN, SCOOTERS)
    assert found is not None and "$99" in found.reply and "$700" not in found.reply, found


RATES = [{"n": 1, "title": "bike-hire.md", "text": "## Hire\n- Hire per hour: bikes £4, tandems £7."}]
RATES_SHOWN = _shown("bike-hire.md", "Hire per hour: bikes £4, tandems £7.")


def test_rival_values_listed_without_what_tells_them_apart_are_flagged_as_one_picked_is():
    question = "How much is hire per hour?"  # names neither bikes nor tandems
    assert check("£4.", question, RATES, RATES_SHOWN)["supported"] is False
    assert check("£4 and £7 per hour.", question, RATES, RATES_SHOWN)["supported"] is False
    # Each said with what it is of answers the question whole.
    assert check("Bikes £4 an hour, tandems £7 an hour.", question, RATES, RATES_SHOWN) == {"supported": True}
    assert check("£7 per hour.", "How much is a tandem per hour?", RATES, RATES_SHOWN) == {"supported": True}


POOL = [{"n": 1, "title": "pool.md", "text": "- A ten-swim card costs 40 dollars.\n- A single swim costs 5 dollars."}]
POOL_SHOWN = _shown("pool.md", "A ten-swim card costs 40 dollars.", "A single swim costs 5 dollars.")


def test_the_questions_count_backs_no_price_of_the_same_number():
    from server.knowledge.rivals import numbered

    question = "游泳池的十次卡多少钱？"
    assert numbered(question) == set()  # 池的十 names no numbered thing as 科目三 does; 十次 is a count
    assert numbered("科目三补考费多少钱？") == {"科目三"}
    # Its 十 counts swims: "10 dollars" is no price the card has, whatever the question's ten.
    assert check("游泳池的十次卡 10 dollars [1]。", question, POOL, POOL_SHOWN)["supported"] is False
    assert check("游泳池的十次卡 40 dollars [1]。", question, POOL, POOL_SHOWN) == {"supported": True}
