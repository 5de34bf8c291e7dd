"""How the library cuts and matches a question's words: Latin glued to Chinese (#25)."""
from __future__ import annotations

from server.knowledge.service import KnowledgeBase
from server.knowledge.store import Store
from tests.test_evidence import read


def test_latin_glued_to_chinese_is_cut_into_words_a_question_shares():
    from server.knowledge.keyword import words

    # "B超室在几楼" was one token, shared with no passage; the Latin part, jieba's B超 and the Chinese words now.
    assert {"b", "b超", "超室", "几楼"} <= set(words("B超室在几楼？"))
    assert ({"b", "超室"} <= set(words("b超室在几楼"))
            and {"b", "b超", "超室", "门诊"} <= set(words("B超室在门诊楼三楼东侧")))
    assert {"20", "00", "关门"} <= set(words("晚上20:00关门")) and words("MRI检查") == ["mri", "检查"]


IMAGING = ("# 影像中心\n\n## 检查室\nB超室在门诊楼三楼东侧，CT室在门诊楼一楼，MRI室在医技楼二楼。\n\n## 医生\n"
           "B超室的负责医生是郑敏，CT室的负责医生是陈志强。\n")


def test_a_question_naming_a_latin_and_chinese_room_finds_its_passage():
    kb = KnowledgeBase(Store(None), lambda: None, 10**8, 10**4, 4)  # keywords alone decide: no embedder
    try:
        kb.add("imaging.md", IMAGING.encode())
        kb.add("clinic.md", read("clinic.md"))
        for question in ("B超室在几楼？", "CT室的负责医生是谁？"):
            assert [r["title"] for r in kb.search(question, k=3)][:1] == ["imaging.md"], question
        system, sources = kb.ground("B超室在几楼？", "sentences")
        assert "B超室在门诊楼三楼东侧" in system and sources[0]["title"] == "imaging.md"
    finally:
        kb.close()




