"""One immutable snapshot of the library for ranking: BM25, vectors, reciprocal rank fusion, a relevance floor."""
from __future__ import annotations

import json
import re

import numpy as np

from .bilingual import alike, glosses, rejoined, shared, stem, whole_words
from .keyword import CJK, KeywordIndex, words
from .other_words import also, held_otherwise
from .rivals import CUES

RRF_K = 60  # the constant of Cormack et al.'s reciprocal rank fusion; ranks past ~60 barely count
CANDIDATES = 50  # each ranking's best passages that enter the fusion
# The keyword ranking counts half as much as the embedder's when both exist: on bench/data/knowledge
# hybrid recall@1 went from 0.88 (equal weights) to 0.92 (0.5 and 0.3 alike), recall@5 stayed 0.96.
KEYWORD_WEIGHT = 0.5
# A passage counts as relevant when it holds this share of the question's informative words (idf-weighted),
# or when its cosine to the question reaches the embedder's floor. On bench/data/knowledge no unanswerable
# question's best passage reached 0.2; at 0.3 keywords alone keep the right document for 67 % of the
# answerable questions, the embedder's floor adds the rest up to 94 % (RESULTS.md).
KEYWORD_MIN = 0.3
# A Chinese question's passage also counts when it holds this share of the question's words and its cosine is this
# close under the embedder's floor: "ID卡丢了，补一张要多少钱？" found its answer at 0.22 and 0.847 (floor 0.86),
# where no unanswerable question's passage of bench/data/knowledge reached 0.2 (bench/RESULTS.md). For English
# questions it let a passage sharing only "room" in ahead of the VR room's (heldout2): not used there.
BOTH_NEAR = (0.2, 0.015)
# A passage in the other language counts when it holds this share of what the question is about in translation
# (weighed by how rare its meaning is in the library: Snapshot.meaning_idf) and its cosine reaches the embedder's
# floor across languages. On the 191 questions of bench/data/evidence and bench/data/knowledge (one library of
# every evidence document), 10 of the 22 questions about a document in the other language reached 0.5 with it
# (学电焊要交多少押金: 1.0), 2 of 19 unanswerable ones with some passage (游泳馆几点开门: a swim school's pool;
# 游泳馆的水温是多少度 stopped at 0.46), 8 of 172 others with another document's; at 0.3: 15, 3 and 25.
TRANSLATED_MIN = 0.5
# Latin letters per Chinese character above which a passage counts as English (Snapshot.across): the swim
# school's coaches, "Coach Li Wei (李伟)", were no English passage and a Chinese question never found them.
LATIN_RATIO = 10
LATIN = re.compile(r"[A-Za-z]")


class Snapshot:
    """Passages as loaded from the store; rebuilt whole when a document comes or goes."""

    def __init__(self, rows: list[tuple], embedder_name: str | None):
        self.rows = [{"document_id": r[0], "title": r[1], "seq": r[2], "page": r[3], "text": r[4]} for r in rows]
        self.latin = np.array([mostly_latin(r[4]) for r in rows], dtype=bool)  # English passages
        self.tokens = [json.loads(r[5]) for r in rows]
        self.keyword = KeywordIndex(self.tokens)
        self.stems: dict[str, list[str]] = {}  # an English word's stem -> the library's words of it (weeks, week)
        for t in self.keyword.df:
            if t.isascii() and t.isalpha():
                self.stems.setdefault(stem(t), []).append(t)
        self.vectors: np.ndarray | None = None
        if embedder_name and rows:
            have = [r[6] is not None and r[7] == embedder_name for r in rows]
            if any(have):
                dim = len(next(r[6] for r, h in zip(rows, have) if h)) // 4
                self.vectors = np.zeros((len(rows), dim), dtype=np.float32)
                for i, (r, h) in enumerate(zip(rows, have)):
                    if h:
                        self.vectors[i] = np.frombuffer(r[6], dtype=np.float32)

    def __len__(self) -> int:
        return len(self.rows)

    def rank(self, query: str, k: int, query_vector: np.ndarray | None, mode: str = "hybrid",
             floor: bool = True, dense_floor: float | None = None,
             cross: tuple | None = None) -> list[tuple[int, float]]:
        """(row, fused score) of the k best relevant passages, best first; no dense_floor = keywords decide.

        cross = (floor, margin): a Chinese question may also find passages with no Chinese (see across()).
        """
        if not self.rows:
            return []
        q_tokens = words(query)
        q_tokens += also(query, self.keyword.df)
        rankings = []
        cos = None
        if mode in ("hybrid", "dense") and self.vectors is not None and query_vector is not None:
            cos = self.vectors @ query_vector
            rankings.append((1.0, list(np.argsort(-cos)[:CANDIDATES])))
        if mode in ("hybrid", "keyword"):
            kw = self.keyword.scores(q_tokens + self.translated(q_tokens) + self.same_meaning(q_tokens))
            top = np.argsort(-kw)[:CANDIDATES]
            rankings.append((KEYWORD_WEIGHT if rankings else 1.0, [i for i in top if kw[i] > 0]))
        fused: dict[int, float] = {}
        for weight, ranking in rankings:
            for rank, i in enumerate(ranking):
                fused[int(i)] = fused.get(int(i), 0.0) + weight / (RRF_K + rank + 1)
        near = bool(CJK.search(query))  # BOTH_NEAR: measured on Chinese questions alone
        subject = rejoined(words(CUES.sub(" ", query)))  # what it is about, for passages in the other language
        shares = {i: self.translated_share(i, near, subject, cos, cross) for i in fused} if floor else {}
        translated = {i for i, share in shares.items() if share >= TRANSLATED_MIN}
        named = {t for t in q_tokens if t.isascii() and t.isalpha()} if near else set()
        first = self.rows[max(fused, key=fused.__getitem__)]["document_id"] if fused else None
        own = max((self.held_share(i, subject) for i in fused if near != bool(self.latin[i])), default=0.0)
        ahead = [i for i in translated if named & set(self.tokens[i]) or self.rows[i]["document_id"] == first
                 or shares[i] > own]
        if ahead and cos is not None:
            # The embedder puts a question nearer any text of its own language than the other language's passage
            # that answers it (MetroRide的年卡…全额退款: 0.852 against Chinese documents' 0.869): a passage that holds
            # the question in translation and the name it writes in Latin letters has the embedder's rank among such
            # passages (as evidence._across ranks sentences). Without a name, 诊所星期六几点关门 lost its clinic to
            # "On Saturdays it opens at 10:00 and closes at 16:00" (a library's Saturday, in translation). So do the
            # other-language passages of the document ranked first: the summer camp's English half ("Airport pickup
            # ... Hangzhou Xiaoshan Airport, costs 120 yuan one way") had stayed behind its Chinese passages. So do
            # those holding more of the question than any passage of its language (held_share): the hall's "Family
            # matinees (Saturday 14:00)" row, 0.65 of 7岁…亲子日场儿童票, stayed behind a dental clinic's 6-8岁 line.
            dense = {int(i): r for r, i in enumerate(rankings[0][1])}
            ahead.sort(key=lambda i: -cos[i])
            for r, i in enumerate(ahead):
                if r < dense.get(i, CANDIDATES):
                    fused[i] += 1.0 / (RRF_K + r + 1) - (1.0 / (RRF_K + dense[i] + 1) if i in dense else 0.0)
        order = sorted(fused.items(), key=lambda kv: -kv[1])
        if floor:
            wide = self.across(cos, cross) if cross and cos is not None and CJK.search(query) else set()
            order = [(i, s) for i, s in order if i in wide or i in translated
                     or self.relevant(i, q_tokens, cos, mode, dense_floor, near)]
        return order[:k]

    def across(self, cos: np.ndarray, cross: tuple) -> set[int]:
        """Passages with no Chinese that a Chinese question is about: those of one document that stands out.

        The 4-bit e5 puts a Chinese question nearer any Chinese text than the English passage that answers it,
        below the Chinese floor; among English passages alone the right document came first for 12 of 12
        questions about English documents (bench/data/evidence), ahead of the next document by 0.002-0.07,
        while for the questions with no answer (9 there, 12 in bench/data/knowledge) the best English document
        led by at most 0.031. So: its best cosine >= cross[0] and a lead of cross[1] (0.032) over every other
        document; 5 of the 6 such questions of bench/data/evidence pass (leads 0.034-0.064; the sixth 0.020).
        """
        floor, margin = cross
        latin = np.flatnonzero(self.latin)
        if not len(latin):
            return set()
        best = latin[np.argmax(cos[latin])]
        doc = self.rows[best]["document_id"]
        others = [cos[i] for i in latin if self.rows[i]["document_id"] != doc]
        if cos[best] < floor or (others and cos[best] - max(others) < margin):
            return set()
        return {int(i) for i in latin if self.rows[i]["document_id"] == doc and cos[i] >= floor}

    def translated(self, q_tokens: list[str]) -> list[str]:
        """The library's words that translate the question's into the other language (押金 -> deposit)."""
        out: list[str] = []
        for t in dict.fromkeys(q_tokens):
            for g in glosses(t):
                out.extend(self.stems.get(g, []) if g.isascii() else ([g] if g in self.keyword.df else []))
        return out

    def same_meaning(self, q_tokens: list[str]) -> list[str]:
        """The library's words of the same meaning as the question's Chinese words (当班 -> 值班), not its parts'
        (other_words.held_otherwise)."""
        return [a for t in sorted(whole_words(q_tokens)) if CJK.fullmatch(t) for a in alike(t) if a in self.keyword.df]

    def translated_share(self, i: int, chinese: bool, subject: list[str], cos, cross: tuple | None) -> float:
        """The share of what the question is about (held_share) that a passage in the other language (English for a
        Chinese question, Chinese for an English one) holds in translation, where its cosine reaches the embedder's
        floor for the other language (cross[0]); 0 elsewhere. It counts as relevant from TRANSLATED_MIN on.

        What it is about: its words less what it asks (押金, 多少钱, which floor), among those the dictionary or the
        library knows. Neither signal is enough alone: a dictionary's pairs are word for word (游泳馆的水温是多少度
        holds 游泳馆 "pool" of a swim school that says nothing of its water), and the built-in embedder's cosines
        across languages are 0.02-0.03 apart.
        """
        if cos is None or not cross or chinese != bool(self.latin[i]) or float(cos[i]) < cross[0]:
            return 0.0
        return self.held_share(i, subject)

    def held_share(self, i: int, subject: list[str]) -> float:
        """The share of the subject's words (weighed by meaning_idf) that a passage holds, itself or in translation."""
        weight = {t: self.meaning_idf(t) for t in subject if t in self.keyword.df or glosses(t)}
        total = sum(weight.values())
        # A compound held holds the parts jieba cut it into (游泳池 "swimming pool": 游泳, 泳池), as its own text would:
        # this floor lets a passage in, and the clause choice (bilingual.held_share) counts each asked word once.
        # A word of the same meaning counts as its own (星期六 by 周六: the clinic's Saturday line had lost to English
        # passages' "Saturday" in translation).
        held = shared(weight, self.tokens[i]) | held_otherwise(weight, self.tokens[i])
        held |= {t for t in weight if CJK.fullmatch(t) and any(t in h and t != h for h in held)}
        # and a compound the dictionary lacks is held where its word of two characters or more is (校园卡 by 校园
        # "campus": "Lost campus card: ... replacement fee 20 yuan" held 0.48 of 夏令营的校园卡弄丢了 without it).
        held |= {t for t in weight if CJK.fullmatch(t) and not glosses(t)
                 and any(len(h) >= 2 and h in t and h != t for h in held)}
        return sum(weight[t] for t in held) / total if total else 0.0

    def meaning_idf(self, word: str) -> float:
        """How rare what a word means is in the library: the idf of the rarest of its translations that the library
        holds (水温 "temperature", none: as rare as can be; 游泳馆 "pool", in two documents), or its own."""
        found = [self.keyword.idf(w) for g in glosses(word)
                 for w in (self.stems.get(g, []) if g.isascii() else [g]) if w in self.keyword.df]
        return max(found, default=self.keyword.idf(word))

    def relevant(self, i: int, q_tokens: list[str], cos, mode: str, dense_floor: float | None,
                 near: bool = False) -> bool:
        # A word of the same meaning counts as the question's own (当班's passage says 值班).
        held = self.tokens[i] + sorted(held_otherwise(q_tokens, self.tokens[i]))
        covered = self.keyword.coverage(q_tokens, held) if mode != "dense" else 0.0
        if covered >= KEYWORD_MIN:
            return True
        if cos is None or dense_floor is None:
            return False
        # Two signals short of their floors by little count together (see BOTH_NEAR).
        return float(cos[i]) >= dense_floor or (near and covered >= BOTH_NEAR[0]
                                                and float(cos[i]) >= dense_floor - BOTH_NEAR[1])


def mostly_latin(text: str) -> bool:
    """A passage in English: no Chinese, or a few Chinese characters among many Latin letters (a name: 李伟)."""
    return sum(len(m) for m in CJK.findall(text)) * LATIN_RATIO < len(LATIN.findall(text))
