"""A library reply's value must be about what the question asks (#31): a value from a sentence about another
facility of the document is neither composed nor passed unflagged; a place named beside the question's condition
in a sentence about something else is no answer to it; numbers strung together are no number the evidence holds;
a number the question itself says is no rival answer; a document's own name written in a clause does not outrank
the clause that answers."""
from __future__ import annotations

from server.knowledge.compose import compose
from server.knowledge.grounding import check

GYM_TEXT = """# Boulder Barn Climbing Centre — Visitor Guide
## Opening Hours
- Monday to Friday: 7:00am – 10:00pm
- Sunday: 10:00am – 7:00pm
## Café
- The Chalk Pot Café is open Monday to Friday 8:00am – 6:00pm and Sunday 10:00am – 4:00pm."""
GYM = [{"n": 1, "title": "boulder-barn.md", "text": GYM_TEXT, "document_id": "gym"}]
SUNDAY = "What time does the climbing centre close on Sundays?"


def _shown(title: str, *lines: str, n: int = 1) -> str:
    return "Evidence:\n" + "\n".join(f"[{n}] ({title}) {line}" for line in lines)


def test_hours_from_the_section_about_another_facility_are_not_the_answer():
    cafe = "The Chalk Pot Café is open Monday to Friday 8:00am – 6:00pm and Sunday 10:00am – 4:00pm."
    # Only the café's line was shown: its Sunday hours are not composed as the centre's.
    composed = compose(SUNDAY, _shown("boulder-barn.md", cafe), GYM)
    assert composed is None or "4:00pm" not in composed.reply, composed
    # A model that writes the café's hours is flagged, and the centre's own are not.
    shown = _shown("boulder-barn.md", cafe, "Sunday: 10:00am – 7:00pm")
    assert check("It closes at 4:00pm on Sundays.", SUNDAY, GYM, shown)["supported"] is False
    assert check("It closes at 7:00pm on Sundays [1].", SUNDAY, GYM, shown) == {"supported": True}
    # Asked about the café, the café's line answers.
    assert check("The café closes at 4:00pm on Sundays [1].", "When does the café close on Sundays?", GYM,
                 shown) == {"supported": True}


def test_a_reading_rooms_hours_are_not_the_librarys():
    text = ("# 松林社区图书馆 读者指南\n## 开放时间\n- 周六、周日：9:00–18:00\n"
            "- 二楼少儿阅览室：周六、周日 9:00–16:00")
    library = [{"n": 1, "title": "songlin-library.md", "text": text, "document_id": "lib"}]
    question = "周末图书馆几点关门？"
    shown = _shown("songlin-library.md", "周六、周日：9:00–18:00", "二楼少儿阅览室：周六、周日 9:00–16:00")
    assert check("周末图书馆16:00关门。", question, library, shown)["supported"] is False
    assert check("周末图书馆18:00关门 [1]。", question, library, shown) == {"supported": True}


STATION = [{"n": 1, "title": "riverside-station.md", "document_id": "st", "text": (
    "# Riverside Station Guide\n## Tickets\n"
    "- Foreign passport holders can buy tickets at Window 4 in the ticket hall.\n"
    "- Tickets are also sold at the Travel Centre and at the machines.\n"
    "## Wi-Fi\n- Free Wi-Fi: register with your passport number at the Travel Centre.")}]
STATION_SHOWN = _shown("riverside-station.md",
                       "Foreign passport holders can buy tickets at Window 4 in the ticket hall.",
                       "Free Wi-Fi: register with your passport number at the Travel Centre.")


def test_a_place_beside_the_condition_in_a_sentence_about_something_else_is_flagged():
    question = "I only have a passport, where at Riverside station can I buy a train ticket?"
    # The Travel Centre is where a passport registers for Wi-Fi, not where it buys a ticket.
    assert check("You can buy it at the Travel Centre.", question, STATION, STATION_SHOWN)["supported"] is False
    assert check("At Window 4 in the ticket hall [1].", question, STATION, STATION_SHOWN) == {"supported": True}


def test_small_numbers_of_the_evidence_strung_together_are_flagged():
    hostel = [{"n": 1, "title": "hostel.md", "text": "- 外卖请在一楼公共区域吃。\n- Reception: 0571-8800-1234."}]
    shown = _shown("hostel.md", "外卖请在一楼公共区域吃。", "Reception: 0571-8800-1234.")
    question = "What's the Wi-Fi password at the hostel?"
    assert check("1-1-1-1-1-1-1-1", question, hostel, shown)["supported"] is False
    # A number the evidence writes, in its own groups, is not strung.
    assert check("Reception: 0571-8800-1234 [1].", "What is the reception's phone number?", hostel,
                 shown) == {"supported": True}


def test_a_number_the_question_says_is_no_rival_answer():
    text = "普通图书每次最多借8册，可续借一次。"
    card = [{"n": 1, "title": "library-card.md", "text": text}]
    composed = compose("办了普通读者证，一次能借几本书？", _shown("library-card.md", text), card)
    # 可续借一次 holds only the question's own 一次: the answer is the 8 books, not "renewable once".
    assert composed is not None and "8册" in composed.reply and "续借" not in composed.reply, composed
    assert composed.grounding == {"supported": True}
    # Nor is a deposit or a number of days, in sentences as much about the question, a rival count of books.
    shown = _shown("library-card.md", text, "借书押金100元，退证时全额退还。", "任何一本书逾期超过 60 天，暂停借阅。")
    composed = compose("办了普通的借书证，一次能抱几本书回家？", shown, card)
    assert composed is not None and "8册" in composed.reply and composed.grounding == {"supported": True}, composed


def test_the_documents_name_written_in_a_clause_does_not_outrank_the_answer():
    text = ("# Eastgate Scooter Hire\n## Where and who\nScooters are collected at the stand beside Eastgate Market "
            "and returned to any of our four bays. The shop manager is Hana Kovac.")
    hire = [{"n": 1, "title": "scooter-hire.md", "text": text, "document_id": "hire"}]
    shown = _shown("scooter-hire.md", "Scooters are collected at the stand beside Eastgate Market and returned to "
                   "any of our four bays.", "The shop manager is Hana Kovac.")
    composed = compose("Who is the manager of Eastgate Scooter Hire?", shown, hire)
    assert composed is not None and "Hana Kovac" in composed.reply and composed.grounding == {"supported": True}


def test_a_price_question_answered_with_no_price_is_flagged():
    text = "- 借的书晚还，每册每天罚0.1元。\n- 自习室需提前一天预约。"
    library = [{"n": 1, "title": "library.md", "text": text}]
    shown = _shown("library.md", "自习室需提前一天预约。", "借的书晚还，每册每天罚0.1元。")
    question = "借的书晚还了几天，一天要罚多少钱？"  # its 几天 says "a few days late"; it asks a price
    assert check("需提前一天预约 [1]", question, library, shown)["supported"] is False
    assert check("每册每天0.1元 [1]", question, library, shown) == {"supported": True}
    gym = [{"n": 1, "title": "gym.md", "text": "- Annual membership: £400 paid upfront.\n"
            "- You may freeze your membership for up to 2 months per year."}]
    shown = _shown("gym.md", "You may freeze your membership for up to 2 months per year.",
                   "Annual membership: £400 paid upfront.")
    question = "What would a whole year's membership set me back?"
    assert check("Up to 2 months per year [1].", question, gym, shown)["supported"] is False
    assert check("£400 paid upfront [1].", question, gym, shown) == {"supported": True}


def test_a_rent_given_for_an_asked_deposit_is_flagged():
    text = "- Long-term lockers can be rented for £12 per month, plus a £20 key deposit (refunded with the key)."
    gym = [{"n": 1, "title": "gym.md", "text": text}]
    shown = _shown("gym.md", text[2:])
    question = "If I rent a locker long-term, how much is the deposit for the key?"
    assert check("Lockers are £12 per month [1].", question, gym, shown)["supported"] is False
    assert check("The key deposit is £20 [1].", question, gym, shown) == {"supported": True}


def test_a_value_from_another_document_than_the_one_the_question_names_by_its_heading_is_flagged():
    pottery = {"n": 1, "title": "pottery.md", "document_id": "p", "text": "# 青石陶艺课程\n陶艺课每周日上午上课。"}
    photo = {"n": 2, "title": "photo.md", "document_id": "f",
             "text": "# 摄影入门工作坊\n每周六下午在艺术楼210教室上课。"}
    shown = "Evidence:\n[2] (photo.md) 每周六下午在艺术楼210教室上课。\n[1] (pottery.md) 陶艺课每周日上午上课。"
    # 陶艺课 names pottery.md by its heading; the room 210 is the photography workshop's.
    assert check("在艺术楼210教室上课 [2]。", "陶艺课在哪个教室上课？", [pottery, photo], shown)["supported"] is False
    assert check("在艺术楼210教室上课 [2]。", "摄影工作坊在哪个教室上课？", [pottery, photo],
                 shown) == {"supported": True}


def test_a_place_is_told_whole_with_its_room_before_its_floor():
    text = ("# Linden Inn — Guest Guide\n## Laundry\n- Self-service laundry: Room 214, Level 2, open 07:00–23:00. "
            "Tokens from the front desk: CNY 15 per wash.")
    inn = [{"n": 1, "title": "linden-inn.md", "text": text, "document_id": "inn"}]
    shown = _shown("linden-inn.md", "Self-service laundry: Room 214, Level 2, open 07:00–23:00.")
    composed = compose("Where's the coin laundry in the inn?", shown, inn)
    assert composed is not None and "Room 214, Level 2" in composed.reply, composed


def test_a_numbered_thing_is_answered_by_its_own_clause_not_its_siblings():
    text = ("# 顺风驾校 学员须知\n## 费用\n3. 补考费：科目二每次200元，科目三每次300元。\n"
            "4. 科目一、科目四理论考试在车管所考场进行，补考费按车管所标准每次50元。")
    school = [{"n": 1, "title": "driving.md", "text": text, "document_id": "school"}]
    shown = _shown("driving.md", "补考费：科目二每次200元，科目三每次300元。",
                   "科目一、科目四理论考试在车管所考场进行，补考费按车管所标准每次50元。")
    composed = compose("科目三没过，再考一次要交多少补考费？", shown, school)
    assert composed is not None and "300元" in composed.reply, composed
    assert "200元" not in composed.reply and "50元" not in composed.reply, composed
    assert check("补考费是200元。", "科目三没过，再考一次要交多少补考费？", school, shown)["supported"] is False
