"""LoRA training of a local model on conversations, in the prompt format the server asks it in."""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

# Defaults measured on the built-in Gemma 3 270M, 20 made-up facts on 2 shared cores (bench/tuning.py,
# bench/RESULTS.md): r=16 on every projection with lr 1e-3 learned them word for word (DESIGN.md: 8 facts
# the same way); other ranks and rates were not measured.
LORA_R = 16
LORA_ALPHA_PER_R = 2  # alpha = 2r, peft's usual scale
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
LEARNING_RATE = 1e-3
BATCH = 8
# The default epochs give at least this many steps. 20 facts on Gemma: 24 steps (8 epochs) 20/20 exact and
# 16/20 reworded in 267 s, 42 steps 20/20 and 14/20 in 509 s (bench/RESULTS.md); the loss was < 0.02 from step 15.
MIN_STEPS = 24
MAX_DEFAULT_EPOCHS = 20
MAX_TOKENS = 1024  # prompt + answer tokens of one example; the oldest prompt tokens go beyond it


@dataclass
class Example:
    """One answer to learn: the prompt ids (no loss) and the answer ids (loss)."""

    prompt: list[int]
    answer: list[int]


def default_epochs(train: int) -> int:
    """Enough passes over a small file for MIN_STEPS steps of BATCH, at most MAX_DEFAULT_EPOCHS passes."""
    per_epoch = max(1, math.ceil(train / BATCH))
    return max(1, min(MAX_DEFAULT_EPOCHS, math.ceil(MIN_STEPS / per_epoch)))


def encode(tokenizer, conversation: list[dict], transcript: bool) -> list[Example]:
    """An example per assistant turn, its prompt rendered as the server renders it at chat time."""
    from ..backends.local.prompt import STOPS, transcript as render_transcript

    out = []
    for i, m in enumerate(conversation):
        if m["role"] != "assistant" or i == 0:
            continue
        before = conversation[:i]
        if transcript:
            # The server stops a transcript reply at the next "\nQ:"; learning it makes the reply end by itself.
            prompt = tokenizer(render_transcript(before), add_special_tokens=True)["input_ids"]
            answer = tokenizer(" " + m["content"] + "\n" + STOPS[0], add_special_tokens=False)["input_ids"]
        else:
            head = tokenizer.apply_chat_template(before, add_generation_prompt=True, tokenize=False)
            full = tokenizer.apply_chat_template(before + [m], tokenize=False)
            tail = full[len(head):] if full.startswith(head) else m["content"] + (tokenizer.eos_token or "")
            prompt = tokenizer(head, add_special_tokens=False)["input_ids"]
            answer = tokenizer(tail.rstrip("\n"), add_special_tokens=False)["input_ids"]
        answer = answer[:MAX_TOKENS // 2]
        out.append(Example(prompt[-(MAX_TOKENS - len(answer)):], answer))
    return out


def common_prefix(examples: list[Example]) -> int:
    """Prompt tokens every example begins with (the transcript's description and exchanges), less one."""
    if not examples:
        return 0
    first, n = examples[0].prompt, min(len(e.prompt) for e in examples)
    for e in examples[1:]:
        while n and e.prompt[:n] != first[:n]:
            n -= 1
    return max(0, n - 1)


class Trainer:
    """LoRA on a model in memory; one step = one batch; the shared prompt prefix is run once per step, without grad."""

    def __init__(self, model, tokenizer, train: list[Example], evals: list[Example], *, r: int, lr: float,
                 epochs: int, batch: int = BATCH, seed: int = 0):
        import torch
        from peft import LoraConfig, get_peft_model

        torch.manual_seed(seed)
        names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
        targets = [t for t in TARGETS if t in names] or ["c_attn", "c_proj", "c_fc"]  # GPT-2 style names
        cfg = LoraConfig(r=r, lora_alpha=LORA_ALPHA_PER_R * r, lora_dropout=0.0, target_modules=targets,
                         task_type="CAUSAL_LM")
        self.model = get_peft_model(model, cfg)
        self.model.train()
        self.pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.train, self.evals = train, evals
        self.prefix = common_prefix(train + evals)
        self.batch = max(1, min(batch, len(train)))
        self.epochs = epochs
        self.steps_per_epoch = math.ceil(len(train) / self.batch)
        self.steps = self.steps_per_epoch * epochs
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
        # Linear decay to a tenth: the last steps settle rather than bounce (loss 0.02 vs 0.09 at step 40, 8 facts).
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, lambda s: 1 - 0.9 * s / max(1, self.steps))
        self.rng = random.Random(seed)
        decoder = self.model.get_base_model()
        self.decoder, self.head = decoder.get_decoder(), decoder.get_output_embeddings()
        cfg_text = decoder.config.get_text_config() if hasattr(decoder.config, "get_text_config") else decoder.config
        self.softcap = getattr(cfg_text, "final_logit_softcapping", None)

    def batches(self):
        """(epoch, examples) for every step, each epoch in a fresh order."""
        for epoch in range(self.epochs):
            order = list(self.train)
            self.rng.shuffle(order)
            for i in range(0, len(order), self.batch):
                yield epoch, order[i:i + self.batch]

    def loss(self, examples: list[Example]):
        """Mean cross-entropy over the answer tokens of a batch (prompt tokens carry no loss)."""
        import torch
        import torch.nn.functional as F

        device = self.head.weight.device
        cache, p = None, self.prefix
        if p:
            with torch.no_grad():
                cache = self.decoder(input_ids=torch.tensor([examples[0].prompt[:p]], device=device),
                                     use_cache=True).past_key_values
            cache.batch_repeat_interleave(len(examples))
        seqs = [e.prompt[p:] + e.answer for e in examples]
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad, dtype=torch.long, device=device)
        mask = torch.zeros((len(seqs), p + width), dtype=torch.long, device=device)
        mask[:, :p] = 1
        rows, cols, targets = [], [], []
        for b, (e, s) in enumerate(zip(examples, seqs)):
            ids[b, :len(s)] = torch.tensor(s, device=device)
            mask[b, p:p + len(s)] = 1
            start = len(e.prompt) - p  # the first answer token; predicted from the position before it
            for j, tok in enumerate(e.answer):
                rows.append(b)
                cols.append(start - 1 + j)
                targets.append(tok)
        positions = torch.arange(p, p + width, device=device).unsqueeze(0).expand(len(seqs), -1)
        hidden = self.decoder(input_ids=ids, attention_mask=mask, past_key_values=cache, position_ids=positions,
                              use_cache=cache is not None).last_hidden_state
        # Only the answer positions go through the output layer: on Gemma (262k tokens) it costs more than the
        # rest of the model for the whole sequence.
        logits = self.head(hidden[torch.tensor(rows, device=device), torch.tensor(cols, device=device)]).float()
        if self.softcap:
            logits = torch.tanh(logits / self.softcap) * self.softcap
        return F.cross_entropy(logits, torch.tensor(targets, device=device))

    def step(self, examples: list[Example]) -> float:
        loss = self.loss(examples)
        loss.backward()
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad(set_to_none=True)
        return float(loss.detach())

    def eval_loss(self) -> float | None:
        import torch

        if not self.evals:
            return None
        self.model.eval()
        with torch.no_grad():
            total = n = 0.0
            for i in range(0, len(self.evals), self.batch):
                chunk = self.evals[i:i + self.batch]
                total += float(self.loss(chunk)) * len(chunk)
                n += len(chunk)
        self.model.train()
        return total / n

    def run(self, report, should_stop, eval_every: int, start: int = 0) -> bool:
        """Train every step after `start`, calling report(step, epoch, loss, eval_loss|None, eta_s);
        False if stopped early.

        Resuming from a checkpoint saved after step `start`, the batches up to it are drawn and skipped: the
        order is seeded, so the steps that follow see the batches they would have seen without the restart.
        """
        t0 = time.monotonic()
        for step, (epoch, chunk) in enumerate(self.batches(), 1):
            if step <= start:
                continue
            if should_stop():
                return False
            loss = self.step(chunk)
            ev = self.eval_loss() if (step % eval_every == 0 or step == self.steps) else None
            eta = (time.monotonic() - t0) / (step - start) * (self.steps - step)
            report(step, epoch + (step - epoch * self.steps_per_epoch) / self.steps_per_epoch, loss, ev, eta)
        return True

    def save(self, folder: str) -> None:
        self.model.save_pretrained(folder)
