"""What a tuning job's extras cost beside its training steps, on the built-in Gemma 3 270M in this process.

    python -m bench.tuning_costs [--cache-dir DIR] [--threads 1] [--rounds 3]

The before/after answers (server/tuning/samples.py): 8 questions of bench/data/tuning/facts.jsonl answered
greedy in one batched generate() call, as the training child does before and after training; a prompt-only
call (1 new token) for the part that reads the prompts. Beside them, training steps of the defaults (batch 8),
and a checkpoint (server/tuning/checkpoint.py: LoRA weights, optimizer and scheduler state) saved, read
whole as the resuming child reads it, and read with mmap as the server reads its step at start.
One torch thread, as the child runs on 2 cores (server/tuning/service.py, training_threads). Needs the
built-in model converted once (start the server once with the built-in model).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

from bench.common import ROOT, footer, header, table

FACTS = os.path.join(ROOT, "bench", "data", "tuning", "facts.jsonl")


def timed(fn) -> float:
    t = time.monotonic()
    fn()
    return time.monotonic() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    t_run = time.monotonic()
    header("Fine-tuning extras: before/after answers against a training step (built-in Gemma 3 270M)")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from server.backends.local import source
    from server.tuning import checkpoint, samples, trainer

    torch.set_num_threads(args.threads)
    folder = source.cache_path(source.BUILTIN, args.cache_dir or source.default_cache_dir())
    if not os.path.isfile(os.path.join(folder, "config.json")):
        raise SystemExit(f"No converted built-in model at {folder}: start the server once with the built-in model.")
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.float32)
    facts = [json.loads(line) for line in open(FACTS, encoding="utf-8") if line.strip()]
    convs = [[{"role": "user", "content": f["question"]}, {"role": "assistant", "content": f["answer"]}] for f in facts]
    shown, _ = samples.pick({"train": convs, "eval": []})
    asked = samples.prompts(tokenizer, shown, True)
    samples.answer(model, tokenizer, asked, True, max_new=1)  # warm-up
    read = [timed(lambda: samples.answer(model, tokenizer, asked, True, max_new=1)) for _ in range(args.rounds)]
    side = [timed(lambda: samples.answer(model, tokenizer, asked, True)) for _ in range(args.rounds)]
    examples = [e for c in convs for e in trainer.encode(tokenizer, c, True)]
    t = trainer.Trainer(model, tokenizer, examples, [], r=trainer.LORA_R, lr=trainer.LEARNING_RATE, epochs=1)
    steps = [timed(lambda c=chunk: t.step(c)) for _, chunk in t.batches()]
    where = tempfile.mkdtemp(prefix="bench-ckpt-")
    save = [timed(lambda: checkpoint.save(where, t, 3, epoch=1.0, samples=[], train_s=0.0, loss=[], eval_loss=[]))
            for _ in range(args.rounds)]
    size = os.path.getsize(checkpoint.path(where)) / 1e6
    whole = [timed(lambda: checkpoint.read(where)) for _ in range(args.rounds)]
    peek = [timed(lambda: checkpoint.read(where, mmap=True)["step"]) for _ in range(args.rounds)]
    checkpoint.discard(where)
    os.rmdir(where)
    rows = [["before/after answers, one side (8 questions)", f"{statistics.median(side):.2f}",
             f"{min(side):.2f}-{max(side):.2f}"],
            ["  of which reading the prompts", f"{statistics.median(read):.2f}", f"{min(read):.2f}-{max(read):.2f}"],
            ["training step (batch 8)", f"{statistics.median(steps):.2f}", f"{min(steps):.2f}-{max(steps):.2f}"]]
    for name, xs in ((f"checkpoint save ({size:.0f} MB)", save), ("checkpoint read, whole (the child)", whole),
                     ("checkpoint read, mmap (the server at start)", peek)):
        rows.append([name, f"{statistics.median(xs):.3f}", f"{min(xs):.3f}-{max(xs):.3f}"])
    print(f"prompts: {len(asked)}, {min(map(len, asked))}-{max(map(len, asked))} tokens; "
          f"up to {samples.MAX_NEW} new tokens")
    print(table(["", "median s", "range s"], rows))
    footer(t_run)


if __name__ == "__main__":
    main()
