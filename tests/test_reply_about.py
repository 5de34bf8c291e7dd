"""A reply's clause must be about what the question asks (#31): a condition the question states (a child's height,
the hour) that another clause meets, a role no line writes, a thing ("cable car ticket") its document never names,
and a sibling of a numbered thing (P2 for P1) are flagged, for the model's replies and for composed ones; the right
replies are not."""
from __future__ import annotations

from server.knowledge.asked_thing import about_other
from server.knowledge.composed_check import of_composed
from server.knowledge.grounding import check
from server.knowledge.rivals import candidates


def _shown(title: str, *lines: str) -> str:
    return "Evidence:\n" + "\n".join(f"[1] ({title}) {line}" for line in lines)


PARK = [{"n": 1, "title": "fun-park.md", "text": "# 欢乐谷游乐园\n## 门票\n- 成人门票每人120元。身高1.0米以下儿童免费，"
         "1.0-1.5米儿童半价（60元）。\n- 停车：P1每小时5元，P2每小时8元。"}]
PARK_SHOWN = _shown("fun-park.md", "成人门票每人120元。", "身高1.0米以下儿童免费，1.0-1.5米儿童半价（60元）。",
                    "停车：P1每小时5元，P2每小时8元。")


def test_a_price_whose_clause_does_not_meet_the_childs_height_is_flagged():
    question = "我女儿一米二，进园门票多少钱？"
    assert check("门票每人120元 [1]。", question, PARK, PARK_SHOWN)["supported"] is False
    # (The clause choice still puts the adults' sentence first, so the check's rival rule flags the child's price
    # too; this rule passes it.)
    assert about_other("1.0-1.5米儿童半价（60元）[1]。", question, PARK, PARK_SHOWN) == []
    # An adult's question states no condition: the adults' price answers it.
    assert check("成人门票每人120元 [1]。", "进园门票多少钱？", PARK, PARK_SHOWN) == {"supported": True}


def test_a_composed_clause_that_misses_the_condition_is_flagged_and_the_right_one_is_not():
    question = "我女儿一米二，进园门票多少钱？"
    wrong = of_composed({"supported": True}, "根据资料[1]：成人门票每人120元。", question, PARK, PARK_SHOWN)
    assert wrong["supported"] is False
    right = of_composed({"supported": True}, "根据资料[1]：1.0-1.5米儿童半价（60元）。", question, PARK, PARK_SHOWN)
    assert right == {"supported": True}


def test_a_sibling_of_the_numbered_thing_asked_is_no_rival_and_its_value_is_flagged():
    question = "P2停车场停一个小时多少钱？"
    assert candidates(question, PARK_SHOWN).values == {"8"}
    assert check("每小时5元。", question, PARK, PARK_SHOWN)["supported"] is False
    assert check("P2每小时8元 [1]。", question, PARK, PARK_SHOWN) == {"supported": True}


SHUTTLE = [{"n": 1, "title": "harbour-hotel.md", "text": "| 线路 | 班次 |\n| 酒店 ⇄ T1航站楼 | 每15分钟一班 |\n"
            "| 酒店 ⇄ T2航站楼 | 每40分钟一班 |"}]
SHUTTLE_SHOWN = _shown("harbour-hotel.md", "酒店 ⇄ T1航站楼 | 每15分钟一班 |", "酒店 ⇄ T2航站楼 | 每40分钟一班 |")


def test_a_duration_the_question_does_not_back_by_its_terminals_number_is_flagged():
    question = "去T1航站楼的班车多久一班？"
    # "T1" names the terminal: its 1 backs no "1小时", and T2's 40 is not T1's.
    assert check("去T1航站楼的班车大约1小时40分钟一班。", question, SHUTTLE, SHUTTLE_SHOWN)["supported"] is False
    assert check("去T1航站楼的班车每15分钟一班 [1]。", question, SHUTTLE, SHUTTLE_SHOWN) == {"supported": True}


STAFF = [{"n": 1, "title": "bookshop.md",
          "text": "## 店员\n- 店长：王芳（9:00-18:00）。\n- 夜班值班：陈亮（23:00-次日7:00）。"}]
STAFF_SHOWN = _shown("bookshop.md", "店长：王芳（9:00-18:00）。", "夜班值班：陈亮（23:00-次日7:00）。")


def test_a_name_whose_line_does_not_cover_the_hour_asked_is_flagged():
    question = "凌晨三点到书店，值班的人是谁？"
    assert check("王芳。", question, STAFF, STAFF_SHOWN)["supported"] is False
    # Composed, the clause choice's own verdict is not enough: the hour is read there too.
    wrong = of_composed({"supported": True}, "根据资料[1]：店长：王芳。", question, STAFF, STAFF_SHOWN)
    assert wrong["supported"] is False
    right = of_composed({"supported": True}, "根据资料[1]：夜班值班：陈亮。", question, STAFF, STAFF_SHOWN)
    assert right == {"supported": True}
    assert check("陈亮 [1]。", question, STAFF, STAFF_SHOWN) == {"supported": True}
    assert check("王芳 [1]。", "下午三点到书店，该找谁？", STAFF, STAFF_SHOWN) == {"supported": True}


def test_a_role_that_no_line_writes_is_flagged():
    question = "书店的店长是谁？"
    assert check("组长：王芳。", question, STAFF, STAFF_SHOWN)["supported"] is False
    assert check("店长：王芳 [1]。", question, STAFF, STAFF_SHOWN) == {"supported": True}


MUSEUM = [{"n": 1, "title": "city-museum.md", "text": "# City Museum\nAn adult ticket costs 12 dollars."},
          {"n": 2, "title": "hill-railway.md", "text": "# Hill Railway\nThe funicular runs every 10 minutes."}]
MUSEUM_SHOWN = "Evidence:\n[1] (city-museum.md) An adult ticket costs 12 dollars.\n" \
               "[2] (hill-railway.md) The funicular runs every 10 minutes."


def test_a_thing_its_document_never_names_is_flagged():
    question = "How much is a cable car ticket for an adult?"
    reply = "According to [1]: An adult ticket costs 12 dollars."
    assert check("An adult ticket costs 12 dollars [1].", question, MUSEUM, MUSEUM_SHOWN)["supported"] is False
    assert of_composed({"supported": True}, reply, question, MUSEUM, MUSEUM_SHOWN)["supported"] is False
    # The museum's own ticket is answered by it, composed or written.
    asked = "How much is a museum ticket for an adult?"
    assert of_composed({"supported": True}, reply, asked, MUSEUM, MUSEUM_SHOWN) == {"supported": True}
    assert check("An adult ticket costs 12 dollars [1].", asked, MUSEUM, MUSEUM_SHOWN) == {"supported": True}


RENTAL = [{"n": 1, "title": "kayak-hire.md", "text": "- Late return: 6 euros per hour.\n"
           "- You may change boats once per day at no charge.\n- Drying room: Room 12, ground floor.\n"
           "- Drying service (back in 2 hours): EUR 9 per bag."}]
RENTAL_SHOWN = _shown("kayak-hire.md", "Late return: 6 euros per hour.",
                      "You may change boats once per day at no charge.", "Drying room: Room 12, ground floor.",
                      "Drying service (back in 2 hours): EUR 9 per bag.")


def test_a_price_per_another_unit_and_a_where_reply_with_no_place_are_flagged():
    late = "If I bring the kayak back late, what do you charge per hour?"
    said = "You may change boats once per day at no charge [1]."
    assert check(said, late, RENTAL, RENTAL_SHOWN)["supported"] is False
    assert check("Late return: 6 euros per hour [1].", late, RENTAL, RENTAL_SHOWN) == {"supported": True}
    where = "Where is the drying room?"
    said = "According to [1]: Drying service (back in 2 hours): EUR 9 per bag."
    assert of_composed({"supported": True}, said, where, RENTAL, RENTAL_SHOWN)["supported"] is False
    assert check("Drying room: Room 12, ground floor [1].", where, RENTAL, RENTAL_SHOWN) == {"supported": True}
    # A place's line with its hours names the place by words alone: not flagged.
    assert about_other("The drying room is by the slipway, open 8:00 to 20:00.", where, RENTAL, RENTAL_SHOWN) == []


SCHOOL = {"n": 1, "title": "driving-school.md", "document_id": "a",
          "text": "# 顺达驾校学员须知\n- 在校大学生凭学生证可优惠300元，仅限C1普通班。"}
DESKS = {"n": 2, "title": "coworking.md", "document_id": "b",
         "text": "# 星桥联合办公 会员手册\n| 方案 | 价格 |\n| 日票 | 79元/天 |\n| 学生日票 | 59元/天 |"}
DESKS_SHOWN = "Evidence:\n[1] (driving-school.md) 在校大学生凭学生证可优惠300元，仅限C1普通班。\n" \
              "[2] (coworking.md) 学生日票 | 59元/天"


def test_a_value_from_a_document_the_question_does_not_point_at_is_flagged():
    question = "我是在读大学生，去你们那儿办公一天要多少钱？"
    # The coworking space's document holds 学生 and 办公; the driving school's only 大学生.
    reply = "根据资料[1]：在校大学生凭学生证可优惠300元。"
    wrong = of_composed({"supported": True}, reply, question, [SCHOOL, DESKS], DESKS_SHOWN)
    assert wrong["supported"] is False and wrong["quote"]["title"] == "driving-school.md"
    reply = "根据资料[2]：学生日票 | 59元/天。"
    right = of_composed({"supported": True}, reply, question, [SCHOOL, DESKS], DESKS_SHOWN)
    assert right == {"supported": True}
    # The driving school's own question is answered by its clause.
    assert about_other("在校大学生凭学生证可优惠300元 [1]。", "大学生报驾校能优惠多少钱？", [SCHOOL, DESKS],
                       DESKS_SHOWN) == []


STORAGE = [{"n": 1, "title": "station.md", "text": "# 南湖站旅客服务\n## 行李寄存\n"
            "- 中件（20 寸以上至 28 寸）：15 元/件/天\n- 大件（28 寸以上行李箱、自行车、婴儿车）：25 元/件/天\n"
            "- 婴儿车：押金 100 元，不能带上车。"}]
STORAGE_SHOWN = _shown("station.md", "中件（20 寸以上至 28 寸）：15 元/件/天",
                       "大件（28 寸以上行李箱、自行车、婴儿车）：25 元/件/天")


def test_a_stored_items_fee_is_no_fare_for_a_bicycle_on_a_boat():
    # The head is 大件, a size of luggage (what its brackets list is not what it is about); the station never
    # writes 上船 (its 上车 shares only the gloss "get").
    reply = "根据资料[1]：大件（28 寸以上行李箱、自行车、婴儿车）：25 元/件/天。"
    assert of_composed({"supported": True}, reply, "我想推自行车上船，车要另外付多少钱？", STORAGE,
                       STORAGE_SHOWN)["supported"] is False
    # Storing a case there is what the station's line is about, in other words (箱子 for 行李箱).
    reply = "根据资料[1]：中件（20 寸以上至 28 寸）：15 元/件/天。"
    assert of_composed({"supported": True}, reply, "在南湖站存个28寸的箱子，一天多少钱？", STORAGE,
                       STORAGE_SHOWN) == {"supported": True}
