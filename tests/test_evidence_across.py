"""A question in one language about a fact written only in the other: which passages it is shown (#31)."""
from __future__ import annotations

import os

import pytest

from tests.live import ROOT
from tests.memory_library import in_memory

# Two seen sets' documents (bench/data/evidence): a concert hall, a students' residence, a bike share and a summer
# camp in English or both languages; a dental clinic and a repair shop in Chinese.
SEEN = {"heldout7": ("lakeview_summer_camp_handbook.md", "metroride_user_guide.md", "qinghe_dental_guide.md"),
        "heldout8": ("jiadian_weixiu_xuzhi.md", "liuxuesheng_gongyu_shouce.md", "riverside_hall_visitor_guide.md")}


def seen_docs(seen: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """The text of each named document of bench/data/evidence, by set: {file name: text}."""
    docs = {}
    for part, names in seen.items():
        for name in names:
            with open(os.path.join(ROOT, "bench", "data", "evidence", part, "docs", name), encoding="utf-8") as f:
                docs[name] = f.read()
    return docs


@pytest.fixture(scope="module")
def library():
    yield from in_memory(seen_docs(SEEN))


def test_an_english_line_holding_more_of_a_chinese_question_than_any_chinese_one_is_shown(library):
    # The dental clinic's age lines (窝沟封闭 at 6-8岁) filled the evidence (nearer by the embedder); the hall's
    # price table holds 礼拜六 "Saturday", 日场 "matinee" and 儿童 "child" in translation, more than any Chinese line.
    system, sources = library.ground("我家孩子7岁，想看礼拜六下午那场亲子日场，儿童票多少钱？", "sentences")
    assert "Family matinees (Saturday 14:00)" in system
    assert sources[0]["title"] == "riverside_hall_visitor_guide.md"

