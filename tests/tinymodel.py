"""A tiny random Qwen2 chat model with an in-process BPE tokenizer, built in well under a second.

    python -m tests.tinymodel OUT_DIR [--endless] [--think] [--base]

Replies are random words. Hidden dimension 0 is held at a constant through the
residual stream (set in every embedding row, zeroed in each layer's output
projections), so lm_head rows can be pushed down on it whatever the context:
tokens that are not printable ASCII are never produced, and with `endless` the
end-of-turn tokens neither, so every reply runs to max_tokens. With `base` the
tokenizer has no chat template, as a base model's (the built-in Gemma's) has none.
"""
from __future__ import annotations

import argparse
import json
import os

# Plain ASCII on purpose: every trained token decodes to readable text.
TEXT = """
The little server answers questions from phones on the same network. Each person
opens the page, types a message and reads the reply as it streams in, word by word.
A model is a long list of numbers that turns a prompt into the next token, and then
the next one, until it decides to stop or runs out of room. Small models are fast
but forgetful; large models are slow but know more about the world.
When two people ask at once, one of them waits in line and sees their place in the
queue. Press stop and the reply ends where it is; the words so far are kept.
History is kept in memory for an hour, so a phone that drops off the hotspot and
comes back finds its conversation again. Think before you answer, then answer well.
Cats sleep in the sun, dogs run in the park, and birds sing in the morning light.
We walk to the market on Saturday to buy bread, apples, cheese, milk and tea.
Numbers like 1, 2, 3, 10, 42 and 2024 show up in text; so do names like Alice and Bob.
What is the weather like today? It is warm and bright, with a light wind from the sea.
How do I cook rice? Rinse it, add water, bring it to a boil, then let it rest.
Please write a short poem about the river, the hills and the quiet evening sky.
"""

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
THINK = ["<think>", "</think>"]  # added but not special: decoding keeps them, as in Qwen3

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
# DeepSeek-R1-distill style: the generation prompt opens the thinking block itself.
THINK_TEMPLATE = CHAT_TEMPLATE.replace(
    "'<|im_start|>assistant\\n' }}", "'<|im_start|>assistant\\n<think>\\n' }}"
)

HIDDEN = 64
CONST = 4.0  # value of the held dimension; large next to the ~0.02-scale random weights


def _tokenizer(think: bool, base: bool = False):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from tokenizers import AddedToken
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    # The full byte alphabet lets any input (emoji, accents) tokenize; the model never emits those bytes.
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([line for line in TEXT.splitlines() if line.strip()], trainer)
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in THINK])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=None, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        unk_token=None, additional_special_tokens=["<|im_start|>"],
    )
    fast.chat_template = None if base else THINK_TEMPLATE if think else CHAT_TEMPLATE
    return fast


def _printable(tokenizer, i: int) -> bool:
    text = tokenizer.decode([i])
    return bool(text) and all(c == "\n" or 32 <= ord(c) < 127 for c in text)


def build(out_dir: str, endless: bool = False, think: bool = False, max_positions: int = 512,
          base: bool = False) -> str:
    """Write a tiny HF model folder to out_dir and return out_dir."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    tokenizer = _tokenizer(think, base)
    vocab = len(tokenizer)
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen2Config(
        vocab_size=vocab, hidden_size=HIDDEN, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=max_positions,
        tie_word_embeddings=False, eos_token_id=eos, pad_token_id=pad, bos_token_id=None,
        torch_dtype="float32",
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1234)  # deterministic weights, without disturbing the caller's RNG
        model = Qwen2ForCausalLM(config).eval()
        with torch.no_grad():
            # Random logits big enough that sampling has a shape and greedy picks a clear winner.
            model.lm_head.weight.normal_(0.0, 0.3)
            model.model.embed_tokens.weight.normal_(0.0, 1.0)  # so the prompt, not the held dim, drives the output
            model.model.embed_tokens.weight[:, 0] = CONST
            for layer in model.model.layers:
                layer.self_attn.o_proj.weight[0, :] = 0.0
                layer.mlp.down_proj.weight[0, :] = 0.0
            model.model.norm.weight[0] = 1.0  # the held dim comes out of the final norm positive
            head = model.lm_head.weight
            head[:, 0] = 0.0
            banned = [i for i in range(vocab) if not _printable(tokenizer, i)]
            banned += [tokenizer.convert_tokens_to_ids(t) for t in SPECIAL if t != "<|im_end|>"]
            banned += [tokenizer.convert_tokens_to_ids(t) for t in THINK]  # only prompts open thinking
            head[banned, 0] = -50.0
            # Without `endless`, a small steady pull towards ending the turn; with it, never.
            head[eos, 0] = -50.0 if endless else 0.6
    model.generation_config = GenerationConfig(eos_token_id=eos, pad_token_id=pad, do_sample=False)
    os.makedirs(out_dir, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    with open(os.path.join(out_dir, "tinymodel.json"), "w") as f:
        json.dump({"endless": endless, "think": think, "base": base}, f)
    return out_dir


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m tests.tinymodel", description=__doc__.splitlines()[0])
    p.add_argument("out_dir")
    p.add_argument("--endless", action="store_true", help="replies never end before max_tokens")
    p.add_argument("--think", action="store_true", help="the generation prompt opens a <think> block")
    p.add_argument("--max-positions", type=int, default=512, help="max_position_embeddings")
    p.add_argument("--base", action="store_true", help="no chat template, as a base model")
    a = p.parse_args(argv)
    print(build(a.out_dir, endless=a.endless, think=a.think, max_positions=a.max_positions, base=a.base))


if __name__ == "__main__":
    main()
