"""Before/after answers: a job's first questions answered greedy by the model, batched, in the chat-time prompt."""
from __future__ import annotations

import copy

SHOWN = 8  # questions answered before and after training
# Tokens an answer may take (a short fact's answer takes 10-20, and the call ends when every row has stopped).
# Cost on the built-in Gemma 3 270M, one torch thread, 8 questions in the transcript prompt (about 205 tokens
# each): 11.4-14.1 s a side, 6.1-7.2 s of it reading the prompts, against 2.9-6.3 s a training step
# (bench/tuning_costs.py, bench/RESULTS.md).
MAX_NEW = 48
CUT = 400  # characters of a question or expected answer kept in the job object (it goes out on every progress event)


def _short(text: str) -> str:
    return text if len(text) <= CUT else text[:CUT].rstrip() + "…"


def pick(data: dict) -> tuple[list[list[dict]], bool]:
    """Up to SHOWN conversations to answer, and whether they were held out (the eval split) or taught."""
    if data.get("eval"):
        return data["eval"][:SHOWN], True
    return data["train"][:SHOWN], False


def prompts(tokenizer, conversations: list[list[dict]], transcript: bool) -> list[list[int]]:
    """Each conversation's last answer's prompt, exactly as training encodes it (and the server asks it)."""
    from .trainer import encode

    return [encode(tokenizer, c, transcript)[-1].prompt for c in conversations]


def answer(model, tokenizer, batch: list[list[int]], transcript: bool, max_new: int = MAX_NEW) -> list[str]:
    """Greedy replies to the prompts, all in one left-padded generate() call; each cut at its format's stop."""
    import torch

    from ..backends.local.loader import eos_ids
    from ..backends.local.prompt import STOPS

    if not batch:
        return []
    eos = eos_ids(tokenizer, model)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (eos[0] if eos else 0)
    device = next(model.parameters()).device
    width = max(len(p) for p in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long, device=device)
    mask = torch.zeros((len(batch), width), dtype=torch.long, device=device)
    for i, p in enumerate(batch):
        ids[i, width - len(p):] = torch.tensor(p, device=device)
        mask[i, width - len(p):] = 1
    gc = copy.deepcopy(model.generation_config)
    # A transcript reply ends where the model starts the next turn itself (the server stops it there too).
    gc.update(max_new_tokens=max_new, max_length=None, do_sample=False, temperature=None, top_p=None, top_k=None,
              eos_token_id=eos, pad_token_id=pad, stop_strings=list(STOPS) if transcript else None)
    training = model.training
    model.eval()
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, generation_config=gc, tokenizer=tokenizer)
    model.train(training)
    texts = []
    for row in out[:, width:].tolist():
        end = next((i for i, t in enumerate(row) if t in eos), len(row))
        text = tokenizer.decode(row[:end], skip_special_tokens=True)
        for stop in STOPS if transcript else ():
            text = text.split(stop)[0]
        texts.append(text.strip())
    return texts


def table(conversations: list[list[dict]], held_out: bool, before: list[str]) -> list[dict]:
    """The job's samples: question, expected answer, the base model's answer; `after` filled once trained."""
    from .data import preview

    return [{"question": _short(p["question"]), "expected": _short(p["answer"]), "before": b, "after": None,
             "held_out": held_out} for p, b in zip(preview(conversations, len(conversations)), before)]
