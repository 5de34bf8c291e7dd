"""Where the server keeps its files: the data folder (conversations, library, graph, tuning) and the model cache."""
from __future__ import annotations

import logging
import os

import platformdirs

log = logging.getLogger(__name__)
APP = "lan-llm-chat"
_told: set[str] = set()  # folders whose start-up sentence was said (data_dir() is called once per store)


def system_data_dir() -> str:
    """Where this system keeps application data: ~/.local/share (or $XDG_DATA_HOME) on Linux,
    ~/Library/Application Support on macOS, %LOCALAPPDATA% on Windows."""
    return platformdirs.user_data_dir(APP, appauthor=False)


def legacy_data_dir() -> str:
    """The folder used on every system before #38: $XDG_DATA_HOME/lan-llm-chat or ~/.local/share/lan-llm-chat."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, APP)


def default_cache_dir() -> str:
    """Where the converted built-in model is kept: ~/.cache, ~/Library/Caches or %LOCALAPPDATA%\\...\\Cache."""
    return platformdirs.user_cache_dir(APP, appauthor=False)


def _holds_data(path: str) -> bool:
    """Anything in the folder but the model cache (on Windows the cache folder lies inside the data folder)."""
    cache = os.path.normcase(os.path.abspath(default_cache_dir()))
    try:
        with os.scandir(path) as entries:
            return any(os.path.normcase(os.path.abspath(e.path)) != cache for e in entries)
    except OSError:
        return False


def default_data_dir() -> str:
    """The system's data folder; the old folder instead while it holds data and the system's one does not."""
    new, old = system_data_dir(), legacy_data_dir()
    if os.path.normcase(os.path.abspath(new)) != os.path.normcase(os.path.abspath(old)) and _holds_data(old) \
            and not _holds_data(new):
        return old
    return new


def data_dir(cfg) -> str:
    """The configured data folder (made if missing); raises SystemExit with a clear message if unusable."""
    path = os.path.abspath(os.path.expanduser(cfg.data_dir or default_data_dir()))
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise SystemExit(f"The data folder {path} cannot be made ({e.strerror}); choose another with --data-dir.")
    if not os.access(path, os.W_OK | os.X_OK):
        raise SystemExit(f"The data folder {path} is not writable; choose another with --data-dir.")
    if not cfg.data_dir and path not in _told:
        _told.add(path)
        if path == os.path.abspath(legacy_data_dir()) and path != os.path.abspath(system_data_dir()):
            log.warning("Using the data folder from an earlier version, %s, because it holds data. This system keeps "
                        "application data in %s: move the folder's contents there (or start with --data-dir).",
                        path, system_data_dir())
    return path
