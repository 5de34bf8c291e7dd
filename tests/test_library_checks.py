"""The library's evidence and its checks on replies (#31): sentences kept whole across abbreviations, a value
question answered with no value flagged, a person named from another clause flagged, a value backed only by a
sentence about something else flagged."""
from __future__ import annotations

from server.knowledge.chunk import sentences


def test_abbreviations_and_decimals_stay_inside_their_sentence():
    # Cut at "ext.", the extension was a sentence of its own and its question could not be answered.
    assert sentences("- Registration Coordinator: Gareth Olsen (ext. 2214). He handles refunds.") == [
        "- Registration Coordinator: Gareth Olsen (ext. 2214).", "He handles refunds."]
    assert sentences("The main front desk number is ext. 2200.") == ["The main front desk number is ext. 2200."]
    assert sentences("See Dr. Brooks in Rm. 12, No. 4 St. Mary's Rd. A copy costs approx. 3.50 dollars.") == [
        "See Dr. Brooks in Rm. 12, No. 4 St. Mary's Rd.", "A copy costs approx. 3.50 dollars."]
    assert sentences("Open 9 a.m. to 5 p.m. daily, e.g. on holidays, i.e. always. Closed vs. open.") == [
        "Open 9 a.m. to 5 p.m. daily, e.g. on holidays, i.e. always.", "Closed vs. open."]
    # A time at a sentence's end still ends it when the next one starts.
    assert sentences("Spanish: Tuesday, 6:30 to 8:30 pm. Tuition is $185.") == [
        "Spanish: Tuesday, 6:30 to 8:30 pm.", "Tuition is $185."]


def test_an_extension_or_phone_question_answered_with_no_number_is_flagged():
    from server.knowledge.grounding import unsupported

    shown = ("Evidence:\n[1] (vet.md) Grooming centre: Ken, extension 803.\n"
             "[2] (vet.md) 美容中心分机 803，电话 5550123。")
    assert unsupported("The grooming center is located at [1].", "What's the phone extension for the grooming "
                       "center?", shown) == ["(no number)"]
    assert unsupported("Extension 803 [1].", "What's the phone extension for the grooming center?", shown) == []
    assert unsupported("美容中心在前台旁边。", "美容中心的分机是什么？", shown) == ["(no number)"]
    assert unsupported("美容中心的电话在前台。", "美容中心电话？", shown) == ["(no number)"]
    assert unsupported("分机803 [2]。", "美容中心的分机是什么？", shown) == []
    # saying it was not found, as the prompt asks, claims nothing: no warning under it
    assert unsupported("Not found in the knowledge base.", "What's the extension of the pharmacy?", shown) == []
    assert unsupported("知识库中没有找到相关内容。", "药房的分机是多少？", shown) == []
    assert unsupported("Not found, but try 555.", "What's the extension of the pharmacy?", shown) != []  # checked
    # small numbers of the evidence strung together are no number to dial: 3, 15 and 15 are no extension
    shown += "\n[3] (vet.md) Dogs are groomed on the 3rd floor, 15 minutes a dog."
    assert unsupported("3-15-15", "What's the phone extension for the grooming center?", shown) \
        == ["(no phone number)"]


def test_a_person_named_from_the_wrong_clause_is_flagged_with_the_right_one_quoted():
    from server.knowledge.grounding import check

    team = [{"n": 1, "title": "vet-clinic.md", "text": "- 周晓雯医生：猫科专科医生，同时负责皮肤病门诊。\n"
             "- 顾明哲院长：外科医生，负责绝育、骨科及各类手术。"},
            {"n": 2, "title": "vet-clinic.md",
             "text": "- 刘强医生：异宠医生，兔子、仓鼠、鹦鹉请找他，每周二、周四全天坐诊。"}]
    shown = "Evidence:\n" + "\n".join(f"[{s['n']}] ({s['title']}) {line[2:]}" for s in team
                                      for line in s["text"].splitlines())
    question = "我家兔子好像不太舒服，该挂哪位医生？"
    wrong = check("兔子科医生，周晓雯。", question, team, shown)
    assert wrong["supported"] is False  # 兔子 is 刘强's clause, though his name sits in the clause before it
    assert wrong["quote"]["n"] == 2 and "刘强" in wrong["quote"]["sentence"]
    assert check("刘强医生 [2]。", question, team, shown) == {"supported": True}
    # A question no clause tells apart stays as it was: any doctor of the evidence may be named.
    assert check("周晓雯医生 [1]。", "诊所有哪位医生？", team, shown) == {"supported": True}


def test_a_value_backed_only_by_sentences_about_something_else_is_flagged():
    from server.knowledge.grounding import check

    # Both passages share "dog" and "cost" with the question; no sentence holding 18 is about a rabies shot.
    hotel = {"n": 1, "title": "pet-hotel.md", "text": "## Rules\nEvery dog must have had its rabies vaccination "
             "at least 30 days before the stay.\n## Prices\nA small dog costs 28 dollars a night, a cat 18 "
             "dollars a night."}
    prints = {"n": 2, "title": "print-shop.md", "text": "Posters up to A1 size cost 18 dollars each."}
    shown = "Evidence:\n[1] (pet-hotel.md) A small dog costs 28 dollars a night, a cat 18 dollars a night."
    question = "How much does a rabies shot cost for my puppy dog?"
    assert check("A rabies shot costs 18 dollars.", question, [hotel, prints], shown)["supported"] is False
    assert check("A cat costs 18 dollars [1].", "How much does a cat cost per night?", [hotel, prints],
                 shown) == {"supported": True}
    # In Chinese too: 100 is the key card's deposit, not a microchip's price.
    hostel = {"n": 1, "title": "hostel.md",
              "text": "## 入住\n入住时收取房卡押金100元，退房时退还。\n## 宠物\n狗狗进门必须牵绳。"}
    shown = "Evidence:\n[1] (hostel.md) 入住时收取房卡押金100元，退房时退还。"
    assert check("宠物芯片的植入价格为100元。", "给狗狗植入宠物芯片要多少钱？", [hostel], shown)["supported"] is False
    assert check("房卡押金100元 [1]。", "房卡押金多少钱？", [hostel], shown) == {"supported": True}
