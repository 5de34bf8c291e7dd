"""Device pairing: one-time codes that let a second device take the first one's client_id (no Flask)."""
from .codes import ALPHABET, CODE_LENGTH, MemoryCodes, RedisCodes, new_code, normalize

__all__ = ["ALPHABET", "CODE_LENGTH", "MemoryCodes", "RedisCodes", "new_code", "normalize"]
