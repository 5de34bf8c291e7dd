"""The batch on decode.py's pass: rows join, decode a token each per step and leave, all on the worker thread.

It has Batch's interface (add, step, settle, close, busy), so the scheduler drives either. Each row keeps
its own sampling, repetition penalty and guard, as RowSampler gives them in transformers' batch: the
same draw (sampling.draw_tokens), the same penalty, the same guard calls.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import torch

from ...errors import BackendError
from . import int4
from .decode import Decoder
from .jobs import Ended, Failed, Job
from .projections import SMALL_MATMUL
from .lookup import DRAFT, Drafts
from .sampling import argmax, draw_tokens, shape_logits
from .two_stage import head_of

log = logging.getLogger(__name__)
FAILED = "The local model failed while generating; see the server log."


# Padding a prompt may get to join a longer one's prefill: a 214-token prompt alone took 1,364 ms, one of 8 together
# 823 (the layers' weights made dense once, the output layer, the small ops: bench/RESULTS.md, "Round 8"), so
# a prefill's own cost is that of ~140 of its tokens.
PAD_ROOM = 128
# Padded tokens one prefill holds at most: its activations (Gemma 3 270M: ~25 KB a token) stay under ~100 MB.
PREFILL_TOKENS = 4096


@dataclass
class _Row:
    job: Job
    ids: list[int]  # the prompt, then (once joined) each token made
    max_new: int  # tokens this row may still generate
    before: int  # tokens generated before it joined (a reply moved over from generate())
    sampling: dict  # row_kwargs: temperature, top_k, top_p, repetition_penalty
    made: int = 0
    seen: set[int] = field(default_factory=set)  # tokens the repetition penalty lowers
    drafts: Drafts = field(default_factory=Drafts)  # prompt lookup's index of its tokens (a lone greedy row's)


class RowBatch:
    """Up to `size` requests decoded together on a Decoder; each row stops, ends or fails on its own."""

    lean = True  # a lone request runs here too: joining it costs a newcomer no second prefill

    def __init__(self, model, eos_ids: list[int], size: int, row_tokens: int, preamble: list[int] | None = None):
        self.eos_ids = set(eos_ids)
        self.size = size
        self.decoder = Decoder(model, row_tokens, preamble)
        self.head = head_of(model)  # a two-stage output layer (int4): its logits made exact where they count
        # A lone greedy row checks prompt lookup's drafts in one pass (lookup.py), and short prompts are prefilled
        # together, where that is cheap: int4's layers take several rows in one kernel call; fp32 and int8 layers run
        # them one by one (projections.ROW_EXACT).
        self.speculate = self.short_together = self.head is not None
        self.guessed = self.kept = 0  # drafts checked, and kept (bench/lookup_ab.py reports them)
        self.rows: list[_Row] = []  # row i is slot i of the decoder's cache
        self.joining: list[_Row] = []

    @property
    def busy(self) -> int:
        """Rows running now, or about to."""
        return len(self.rows) + len(self.joining)

    def add(self, job, ids: list[int], max_new: int, sampling: dict, before: int = 0) -> None:
        """Start a row at the next step; `before` tokens of its reply were already streamed."""
        row = _Row(job, list(ids), max_new, before, sampling)
        if sampling.get("repetition_penalty", 1.0) != 1.0:
            row.seen = set(ids)
        if job.guard is not None:  # its first call shows the prompt's (or the moved reply's) last token
            job.guard.tokens, job.guard.fresh = list(ids[len(ids) - before:]) if before else [], True
        self.joining.append(row)

    def step(self, wait: float = 0.0) -> list:
        """Prefill the rows that joined (together: prompt_groups) and decode one token for every row; return the jobs
        whose rows ended."""
        ended: list = []
        try:
            with torch.inference_mode():  # the logits are changed in place (penalty, guards, the draw)
                ended += [self._leave(i).job for i in reversed(range(len(self.rows))) if self.rows[i].job.stopped()]
                ended += [r.job for r in self.joining if r.job.stopped()]
                self.joining = [r for r in self.joining if not r.job.stopped()]
                for group in prompt_groups(self.joining, self.decoder.start, self.short_together):
                    first = len(self.rows)
                    self.rows += group
                    self.joining = [r for r in self.joining if not any(r is g for g in group)]
                    logits = self.decoder.prefill(first, [r.ids for r in group])
                    ended += self._take(logits, list(range(first, len(self.rows))))
                guess = self._guess()
                if guess:
                    ended += self._checked(guess)
                elif self.rows:
                    logits = self.decoder.step([r.ids[-1] for r in self.rows], [len(r.ids) - 1 for r in self.rows])
                    ended += self._take(logits, list(range(len(self.rows))))
        except Exception as e:  # a failed pass fails every row in it; the batch starts empty again
            log.exception("batched generation failed")
            err = BackendError("unavailable", "The local model ran out of memory while generating."
                               if isinstance(e, MemoryError) else FAILED)
            for row in self.rows + self.joining:
                row.job.out.put(Failed(err))
                ended.append(row.job)
            self.rows, self.joining = [], []
            self.decoder.close()
        return ended

    def _guess(self) -> list[int]:
        """Drafts for the next tokens of a lone greedy row (lookup.py); [] where plain steps run (several rows,
        sampling: a draw cannot be checked against the plain path's token)."""
        if not self.speculate or len(self.rows) != 1:
            return []
        row = self.rows[0]
        if row.sampling.get("temperature", 0.0) > 0 and row.sampling.get("top_k", 1) != 1:
            return []
        return row.drafts.guess(row.ids, min(DRAFT, row.max_new - row.made - 1, self.decoder.max_len - len(row.ids)))

    def _checked(self, guess: list[int]) -> list:
        """The lone row's newest token and the drafts after it in one pass; each position is then taken as a plain
        step takes its logits (penalty, guard, exact head, argmax, in order), as long as the drafts were its picks."""
        row = self.rows[0]
        logits = self.decoder.verify([row.ids[-1]] + guess, len(row.ids) - 1)
        self.guessed += len(guess)
        for i in range(len(guess) + 1):
            if self.head is not None:
                self.head.focus(i)
            ended = self._take(logits[i:i + 1], [0])
            if ended or i == len(guess) or row.ids[-1] != guess[i] or row.job.stopped():
                return ended
            self.kept += 1
        return []

    def _take(self, logits: torch.Tensor, slots: list[int]) -> list:
        """Pick each row's next token from its logits, hand it over, end the rows that are done."""
        rows = [self.rows[s] for s in slots]
        shape_logits(logits, self.head,
                     [(i, torch.tensor(sorted(r.seen)), r.sampling["repetition_penalty"]) for i, r in enumerate(rows)
                      if r.sampling.get("repetition_penalty", 1.0) != 1.0],
                     [(i, r.job.guard, r.ids[-1]) for i, r in enumerate(rows) if r.job.guard is not None])
        picks = argmax(logits)
        drawn, tokens = draw_tokens(logits, torch.tensor([float(r.sampling["temperature"]) for r in rows]),
                                    torch.tensor([int(r.sampling["top_k"]) for r in rows]),
                                    torch.tensor([float(r.sampling["top_p"]) for r in rows]))
        picks[drawn] = tokens
        ended = []
        for slot, row, token in sorted(zip(slots, rows, picks.tolist()), reverse=True):
            row.ids.append(token)
            if row.seen:  # (kept only for a penalized row)
                row.seen.add(token)
            row.made += 1
            if not row.job.stopped():
                row.job.give([token])
            done = token in self.eos_ids
            if done or row.made >= row.max_new or len(row.ids) >= self.decoder.max_len:
                self._leave(slot)
                row.job.out.put(Ended("stop" if done or row.made < row.max_new else "length", row.before + row.made))
                ended.append(row.job)
        return ended

    def _leave(self, slot: int) -> _Row:
        """Take a row out; the last row moves into its slot so that rows stay packed."""
        row = self.rows.pop(slot)
        if slot < len(self.rows):
            last = self.rows.pop()
            self.decoder.move(len(self.rows) + 1, slot, len(last.ids))
            self.rows.insert(slot, last)
        if not self.rows and not self.joining:
            self.decoder.close()  # an idle server holds no cache
        return row

    def settle(self, timeout: float = 2.0) -> None:
        """Nothing runs between steps: the batch is always settled."""

    def warm(self) -> None:
        """Before the first request: the preamble's keys and values made now, so its prompt starts from them."""
        if not self.rows and not self.joining:
            self.decoder.keep(0)
            self.decoder.close()  # an idle server holds no cache, only the kept preamble

    def close(self) -> None:
        self.rows, self.joining = [], []
        self.decoder.close()


def prompt_groups(rows: list[_Row], start=lambda ids: 0, short: bool = False) -> list[list[_Row]]:
    """The joining rows as groups prefilled together, longest first: rows whose prompts start at one place
    (Decoder.start: after the preamble or at 0) and whose tokens from there take one path through the 4-bit layers
    (int4.path: each gets its values alone bit for bit), within PAD_ROOM of the group's longest, and at most
    PREFILL_TOKENS padded tokens a group. A prompt under SMALL_MATMUL tokens is prefilled alone unless `short` (int4:
    Decoder.prefill then runs the float layers prompt by prompt and gives the 4-bit kernel no pads)."""
    groups: list[list[_Row]] = []
    for row in sorted(rows, key=lambda r: (start(r.ids), -len(r.ids))):
        group = groups[-1] if groups else None
        at, n = start(row.ids), len(row.ids)
        longest = len(group[0].ids) - at if group else 0
        room = PAD_ROOM if n - at >= SMALL_MATMUL or short else -1
        if group and at == start(group[0].ids) and int4.path(n - at) == int4.path(longest) \
                and longest - (n - at) <= room and (len(group) + 1) * longest <= PREFILL_TOKENS:
            group.append(row)
        else:
            groups.append([row])
    return groups
