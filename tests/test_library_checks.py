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
