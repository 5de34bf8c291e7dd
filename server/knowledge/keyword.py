"""Keyword ranking: BM25 (bm25s) over words, with Chinese cut into words by jieba."""
from __future__ import annotations

import math
import re

import numpy as np

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# A run of letters, digits and Chinese characters: Latin glued to Chinese ("B超室", "20:00关门") is one run here,
# cut below into its Latin/digit and Chinese parts ("B超室在几楼" as one token matched nothing).
_RUN = re.compile(r"[^\W_]+", re.UNICODE)
_PART = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[^\W_\u3400-\u9fff\uf900-\ufaff]+", re.UNICODE)
# Words too common to rank by; BM25's idf weighs them down anyway, but they would count as "matched"
# in the relevance check and let an unrelated question pass it.
STOP = set("""a an and are as at be by can do does for from has have how i in is it its of on or our the this to
was what when where which who why will with you your my me we he she they them their there then than \
that these much many
those about into out if so not no yes also 的 了 是 在 和 与 或 有 我 你 他 她 它 们 吗 呢 吧 啊 什么 \
怎么 多少 哪 哪里 哪个
几 请问 一个 这个 那个 为什么 如何 是否 可以 需要""".split())


def _jieba():
    import jieba

    jieba.setLogLevel(60)  # its dictionary-loading chatter would go to the server log on every start
    return jieba


def warm_up() -> None:
    """Load jieba's dictionary (about 1.5 s) before the first upload or question needs it."""
    _jieba().initialize()


def words(text: str) -> list[str]:
    """Lower-cased Latin words and numbers; Chinese runs cut by jieba's search mode (words and their parts).

    Latin glued to Chinese gives both parts and the glued words jieba's dictionary knows: "B超室" -> b, 超室
    (as "b超室" typed in lower case cuts) and b超 (as the dictionary writes it).
    """
    out: list[str] = []
    for run in _RUN.finditer(text):
        parts = _PART.findall(run.group())
        for part in parts:
            if CJK.fullmatch(part):
                out.extend(w for w in _jieba().cut_for_search(part.lower()) if w.strip())
            else:
                out.append(part.lower())
        if len(parts) > 1:
            out.extend(w.lower() for w in _jieba().cut_for_search(run.group()) if _PART.fullmatch(w) is None)
    return [w for w in out if w not in STOP]


def bigrams(text: str) -> list[str]:
    """The alternative measured in bench/knowledge_eval.py: Chinese as overlapping character pairs, no dictionary."""
    out = []
    for m in _PART.finditer(text.lower()):
        token = m.group()
        if CJK.fullmatch(token):
            out.extend([token] if len(token) == 1 else [token[i:i + 2] for i in range(len(token) - 1)])
        elif token not in STOP:
            out.append(token)
    return out


class KeywordIndex:
    """BM25 over a fixed list of token lists; rebuilt whole when the library changes (10k chunks: see RESULTS.md)."""

    def __init__(self, corpus: list[list[str]]):
        import bm25s

        self.size = len(corpus)
        self.retriever = None
        self.df: dict[str, int] = {}
        for tokens in corpus:
            for t in set(tokens):
                self.df[t] = self.df.get(t, 0) + 1
        if self.size and self.df:
            self.retriever = bm25s.BM25()
            self.retriever.index(corpus, show_progress=False)

    def idf(self, token: str) -> float:
        n = self.df.get(token, 0)
        return math.log(1 + (self.size - n + 0.5) / (n + 0.5))

    def scores(self, query: list[str]) -> np.ndarray:
        """BM25 score of every chunk for the query's tokens (zeros when nothing matches)."""
        known = [t for t in query if t in self.df]
        if self.retriever is None or not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)

    def coverage(self, query: list[str], chunk: list[str]) -> float:
        """Share of the query's idf weight whose words the chunk holds: 1.0 = every informative word found."""
        wanted = set(query)
        if not wanted:
            return 0.0
        have = set(chunk)
        total = sum(self.idf(t) for t in wanted)
        return sum(self.idf(t) for t in wanted if t in have) / total if total else 0.0
