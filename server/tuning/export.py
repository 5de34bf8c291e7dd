"""Export a tuned model as a merged model folder other servers load:
python -m server.tuning.export NAME OUT [--data-dir D]."""
from __future__ import annotations

import argparse
import json
import os
import sys

from ..paths import default_data_dir


def export(adapter: str, out: str) -> str:
    """The base model with the adapter's LoRA weights merged in, saved with its tokenizer at `out`."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with open(os.path.join(adapter, "tuned.json"), encoding="utf-8") as f:
        meta = json.load(f)
    base = meta["base_folder"]
    if not os.path.isfile(os.path.join(base, "config.json")):
        raise SystemExit(f"The base model folder {base} is gone; "
                         "start the server once with the same model to rebuild it.")
    if os.path.exists(out) and os.listdir(out):
        raise SystemExit(f"{out} exists and is not empty; choose a new folder.")
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(base, local_files_only=True, dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    merged.save_pretrained(out)
    tokenizer.save_pretrained(out)
    with open(os.path.join(out, "tuned.json"), "w", encoding="utf-8") as f:
        json.dump({**meta, "merged": True}, f, ensure_ascii=False)
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("name", help="the tuned model's name (the job's name)")
    ap.add_argument("out", help="a new folder for the merged model")
    ap.add_argument("--data-dir", default=os.environ.get("CHAT_DATA_DIR") or default_data_dir())
    args = ap.parse_args(argv)
    adapter = os.path.join(os.path.expanduser(args.data_dir), "tuning", "adapters", args.name)
    if not os.path.isfile(os.path.join(adapter, "tuned.json")):
        print(f"No tuned model named {args.name!r} in {args.data_dir}.", file=sys.stderr)
        return 1
    print(f"merged model saved in {export(adapter, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
