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
