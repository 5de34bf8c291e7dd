"""Prompt lookup: tokens a lone greedy row is likely to write next, read from its own prompt and reply.

A grounded reply copies its evidence, and a reply repeats its own words: where the row's last tokens appeared
before, what followed them then is drafted, and Decoder.verify() checks the drafts with the token before them
in one pass. torch's 4-bit kernel reads each weight once for up to 4 rows, so that pass costs less than a step
per token: 2, 3 and 4 positions took 1.32x, 1.55x and 1.86x one step on the built-in model (bench/RESULTS.md,
"Round 11"). rows.RowBatch keeps a drafted token only where a plain step would have picked it, so the reply
is the plain path's, token for token.
"""
from __future__ import annotations

# Lengths of the tail looked up, longest first, and drafts checked at most in one pass: chosen by replaying the
# greedy replies of 11 prompts (8 grounded, 3 free; 48 tokens each) with those step costs. 3- then 2-grams with
# 2 drafts came out at 1.34x plain steps (geometric mean); 3 drafts 1.27x, 1 draft 1.16x, 2-grams alone 1.34x,
# adding 1-grams 1.35x (bench/RESULTS.md, "Round 11").
NGRAMS = (3, 2)
DRAFT = 2


class Drafts:
    """Where each n-gram of a row's tokens last appeared, kept up to date as the row grows."""

    def __init__(self) -> None:
        self.after: dict[tuple[int, ...], int] = {}  # an n-gram -> the position of the token that followed it
        self.seen = 0  # tokens indexed

    def guess(self, ids: list[int], most: int) -> list[int]:
        """Up to `most` tokens that followed the latest earlier appearance of ids' last tokens; [] if none."""
        for j in range(max(self.seen, 1), len(ids)):
            for n in NGRAMS:
                if j >= n:
                    self.after[tuple(ids[j - n:j])] = j
        self.seen = len(ids)
        if most <= 0:
            return []
        for n in NGRAMS:
            at = self.after.get(tuple(ids[-n:])) if len(ids) > n else None
            if at is not None:
                return ids[at:at + most]
        return []
