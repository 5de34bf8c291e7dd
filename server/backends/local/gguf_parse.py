"""A GGUF header parsed once, and faster, while transformers converts a GGUF model."""
from __future__ import annotations

import os
from contextlib import contextmanager

from ...concurrency import RealLock

_PATCH = RealLock()


def _fast_reader_class():
    """gguf.GGUFReader reading its header through a plain array view of the file's memory map.

    Each slice of an np.memmap runs memmap's Python __getitem__ and __array_finalize__; the header of
    Gemma's 262,144-token vocabulary takes two slices a string. Over a plain ndarray of the same
    buffer the parse took 6.9 s instead of 22.3 s on 2 quiet cores, with equal fields and tensors
    (gguf 0.19.0, pinned in requirements.txt). None when gguf's reader is not what this expects.
    """
    import gguf
    import numpy as np

    if not callable(getattr(gguf.GGUFReader, "_get", None)):
        return None

    class FastReader(gguf.GGUFReader):
        def _get(self, offset, dtype, count=1, override_order=None):
            raw = self.__dict__.get("_raw")
            if raw is None:
                raw = self._raw = self.data.view(np.ndarray)
            count = int(count)
            arr = raw[offset:offset + np.dtype(dtype).itemsize * count].view(dtype=dtype)[:count]
            return arr.view(arr.dtype.newbyteorder(self.byte_order if override_order is None else override_order))

    return FastReader


@contextmanager
def one_gguf_parse():
    """Parse a GGUF's header once for the tokenizer, the config and the weights, not three times.

    transformers builds a gguf.GGUFReader for each of the three; for Gemma's 262,144-token vocabulary
    the reader's parse was 64 % of the first start's profile (3 x 147 s of 636 s under cProfile on 2
    loaded cores). The reader only reads its memory map, so one serves all three.
    """
    import gguf

    with _PATCH:  # two models loading at once (--local-model beside --model) must not restore each other's patch
        real = gguf.GGUFReader
        reader_class = _fast_reader_class() or real
        readers: dict = {}

        def shared(path, mode="r"):
            key = (os.path.abspath(path), mode)
            if key not in readers:
                readers[key] = reader_class(path, mode)
            return readers[key]

        gguf.GGUFReader = shared
        try:
            yield
        finally:
            gguf.GGUFReader = real
