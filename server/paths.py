"""Where the server keeps its files: the data folder (conversations, knowledge base)."""
from __future__ import annotations

import os


def default_data_dir() -> str:
    """$XDG_DATA_HOME/lan-llm-chat or ~/.local/share/lan-llm-chat: the user's data folder, never the repo."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "lan-llm-chat")


def data_dir(cfg) -> str:
    """The configured data folder (made if missing); raises SystemExit with a clear message if unusable."""
    path = os.path.abspath(os.path.expanduser(cfg.data_dir or default_data_dir()))
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise SystemExit(f"The data folder {path} cannot be made ({e.strerror}); choose another with --data-dir.")
    if not os.access(path, os.W_OK | os.X_OK):
        raise SystemExit(f"The data folder {path} is not writable; choose another with --data-dir.")
    return path
