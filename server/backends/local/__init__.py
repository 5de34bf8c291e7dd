"""The local backend: a Hugging Face model on this machine, one module per job (docs/ARCHITECTURE.md)."""
from .backend import LocalBackend  # noqa: F401
from .scheduler import default_threads  # noqa: F401
