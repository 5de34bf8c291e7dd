"""Fine-tuning: LoRA jobs on the local model, trained in a child process; no Flask, no Socket.IO."""
from .data import DataError
from .service import Base, TuningService, public

__all__ = ["Base", "DataError", "TuningService", "public"]
