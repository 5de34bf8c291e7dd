"""The prompt of one request: the model's chat template or, for a base model, a plain transcript; fitted once."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import BackendError
from ..base import drop_oldest_turns
from .loader import Loaded, first_line

# A base model (no chat template, e.g. the built-in Gemma 3 270M) continues a transcript it has seen the
# like of: prompted so and stopped at the next turn, it ended 34-35 of 36 plain questions by itself; with
# Gemma's turn tokens, which it never learned, 0 of 36. Q:/A: turns under a quiz line and eight short
# exchanges (arithmetic, counts, three in Chinese) answered 22/36 right greedy, vs 17/36 for User:/Assistant:
# and three exchanges; more or bare-word answers did worse (bench/questions.py, bench/RESULTS.md).
DESCRIPTION = ("The following is a quiz. "
               "Each question is answered correctly and briefly, in the language of the question.")
EXAMPLES = (
    ("What is the capital of Italy?", "The capital of Italy is Rome."),
    ("水的化学式是什么？", "水的化学式是 H2O。"),
    ("How many legs does a spider have?", "A spider has eight legs."),
    ("What is 6 plus 9?", "6 plus 9 is 15."),
    ("英国的首都是哪里？", "英国的首都是伦敦。"),
    ("Who painted the Mona Lisa?", "Leonardo da Vinci painted the Mona Lisa."),
    ("一个三角形有几条边？", "三角形有三条边。"),
    ("What is the tallest mountain in the world?", "Mount Everest is the tallest mountain in the world."),
)
# A grounded prompt (the knowledge base's "[n] (title) ..." lines in the system message) also shows the model
# two made-up answers read off evidence, one English and one Chinese, in the form the real one takes.
GROUNDED_LINE = re.compile(r"^\[\d+\] \(", re.M)
EVIDENCE_EXAMPLES = (
    ("Evidence:\n[1] (library.md) The city library opens at 8:30 and closes at 21:00; on Sundays it closes at 17:00.\n"
     "[2] (library.md) A reader may borrow up to 6 books for 30 days.",
     "How many books may a reader borrow?", "A reader may borrow up to 6 books [2]."),
    ("Evidence:\n[1] (食堂.md) 二号食堂的早餐时间是6:30到9:00，午餐时间是11:00到13:00。\n"
     "[2] (食堂.md) 二号食堂在学生宿舍北面，一楼是面馆，二楼是自助餐。",
     "二号食堂的自助餐在几楼？", "二号食堂的自助餐在二楼 [2]。"),
)
# A Chinese question on English evidence gets a third, of that kind: without it the built-in model repeated the
# question or answered another sentence for 3 of the 6 such questions of bench/data/evidence.
CROSS_EXAMPLE = ("Evidence:\n[1] (pool.md) The swimming pool opens at 7:00. A single visit costs 5 dollars.",
                 "游泳池单次多少钱？", "游泳池单次 5 dollars [1]。")
CJK = re.compile(r"[\u3400-\u9fff]")
USER, ASSISTANT = "Q:", "A:"
# Where a transcript reply ends: the model starting the next turn itself.
STOPS = ("\n" + USER, "\n" + ASSISTANT)
# ... and, after evidence, a new evidence line: the built-in model went on copying "[1] (clinic.md) ..."
# after its answer for 2 of 42 questions of bench/data/evidence.
GROUNDED_STOPS = STOPS + ("\n[", "\nEvidence:")


def cross_language(messages: list[dict]) -> bool:
    """A Chinese question with evidence in no Chinese."""
    users = [m["content"] for m in messages if m["role"] == "user"]
    system = "\n".join(m["content"] for m in messages if m["role"] == "system")
    first = GROUNDED_LINE.search(system)
    evidence = system[first.start():] if first else ""  # the numbered lines and passages, not the instructions
    return bool(users and CJK.search(users[-1]) and evidence and not CJK.search(evidence))


def grounded(messages: list[dict]) -> bool:
    """The conversation carries the knowledge base's numbered evidence in a system message."""
    return any(m["role"] == "system" and GROUNDED_LINE.search(m["content"]) for m in messages)


@dataclass
class Prompt:
    """A request's prompt, ready to generate from."""

    ids: list[int]
    max_new: int  # tokens the reply may take: the request's own limit, cut to what the context leaves
    thinking: bool  # the prompt itself opened a <think> block
    stops: tuple[str, ...]  # text that ends the reply where it appears (not shown)


def transcript(messages: list[dict]) -> str:
    """The conversation as a plain transcript a base model continues with the assistant's reply."""
    parts = [DESCRIPTION, ""]
    for q, a in EXAMPLES:
        parts += [f"{USER} {q}", f"{ASSISTANT} {a}", ""]
    if grounded(messages):
        for evidence, q, a in EVIDENCE_EXAMPLES + ((CROSS_EXAMPLE,) if cross_language(messages) else ()):
            parts += [evidence, f"{USER} {q}", f"{ASSISTANT} {a}", ""]
    for m in messages:
        if m["role"] == "system":  # instructions and retrieved passages: right before the conversation
            parts += [m["content"].strip(), ""]
    for m in messages:
        if m["role"] != "system":
            parts += [f"{USER if m['role'] == 'user' else ASSISTANT} {m['content'].strip()}"]
            if m["role"] == "assistant":
                parts.append("")
    return "\n".join(parts) + f"\n{ASSISTANT}"


# Shared leading tokens worth keeping the keys and values of (decode.py's preamble): the built-in model's quiz
# and examples are 190 tokens of its ~214 for a short question, prefilled once instead of in each prompt.
MIN_PREAMBLE = 32
# Unlike conversations (plain, grounded, a system line): the tokens all of them start with lead every prompt.
UNLIKE = ([{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}],
          [{"role": "system", "content": "[1] (a.md) b"}, {"role": "user", "content": "c"}])


class Prompter:
    """Renders, tokenizes and fits prompts for one loaded model."""

    def __init__(self, loaded: Loaded):
        self.loaded = loaded

    def preamble(self) -> list[int]:
        """The tokens the UNLIKE conversations' prompts all start with, or [] if under MIN_PREAMBLE."""
        try:
            ids = [self.encode(list(c))[1] for c in UNLIKE]
        except BackendError:  # a template that rejects one of them: no preamble
            return []
        n = 0
        while all(len(x) > n for x in ids) and len({x[n] for x in ids}) == 1:
            n += 1
        return list(ids[0][:n]) if n >= MIN_PREAMBLE else []

    def render(self, messages: list[dict]) -> str:
        if self.loaded.transcript:
            return transcript(messages)
        try:
            return self.loaded.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        except Exception as e:  # jinja2 TemplateError and friends
            raise BackendError("bad_request", f"This model's chat template rejected the conversation: {first_line(e)}")

    def encode(self, messages: list[dict]) -> tuple[str, list[int]]:
        """The rendered prompt and its token ids (a template adds any bos itself; a transcript gets the tokenizer's)."""
        with self.loaded.tok_lock:
            text = self.render(messages)
            return text, self.loaded.tokenizer(text, add_special_tokens=self.loaded.transcript)["input_ids"]

    def prepare(self, messages: list[dict], max_new: int) -> Prompt:
        """Fit the conversation so that max_new tokens of reply fit after it, and encode it; usually one tokenizing."""
        context = self.loaded.context
        text, ids = self.encode(messages)
        if len(ids) > context - max_new:
            text, ids = self.encode(self.fit(messages, max_new))
        if len(ids) >= context:
            raise BackendError("too_long",
                               f"The message is too long for this model: {len(ids)} tokens, "
                               f"and it takes {context} in all.")
        return Prompt(ids, min(max_new, context - len(ids)), text.rstrip().endswith("<think>"),
                      (GROUNDED_STOPS if grounded(messages) else STOPS) if self.loaded.transcript else ())

    def fit(self, messages: list[dict], max_new: int) -> list[dict]:
        """Drop the oldest turns until the prompt leaves room for max_new tokens."""
        limit = self.loaded.context - max_new
        fits = lambda m: len(self.encode(m)[1]) <= limit  # noqa: E731
        messages = list(messages)
        # Each check renders and tokenizes the whole prompt, so binary-search the first user turn
        # from which the rest fits (shorter only fits better); drop_oldest_turns makes the final cut.
        system = messages[:1] if messages and messages[0]["role"] == "system" else []
        rest = messages[len(system):]
        starts = [i for i, m in enumerate(rest) if m["role"] == "user" and i > 0]
        lo, hi = 0, len(starts)
        while lo < hi:
            mid = (lo + hi) // 2
            if fits(system + rest[starts[mid]:]):
                hi = mid
            else:
                lo = mid + 1
        begin = starts[lo - 1] if lo > 0 else 0  # the last start that does not fit
        return drop_oldest_turns(system + rest[begin:], fits)
