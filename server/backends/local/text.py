"""Text helpers for local models: incremental detokenizing, the end of a transcript turn,
<think> splitting; no torch."""
from __future__ import annotations

OPEN, CLOSE = "<think>", "</think>"


class Detokenizer:
    """Turns a growing list of token ids into new text, one token at a time.

    Decoding each token alone breaks multi-byte characters and loses the
    leading spaces that SentencePiece decoders strip. A fast (Rust) tokenizer
    has DecodeStream for exactly this, at one call per token; for others each
    step decodes a short window of earlier tokens plus the new ones and emits
    the difference (the scheme text-generation-inference uses), at two
    decodes per step.
    """

    def __init__(self, tokenizer, incremental: bool = True):
        self.tokenizer = tokenizer
        self.stream = None
        rust = getattr(tokenizer, "_tokenizer", None)
        if incremental and rust is not None:
            from tokenizers import Tokenizer
            from tokenizers.decoders import DecodeStream

            if isinstance(rust, Tokenizer):
                self.rust, self.stream = rust, DecodeStream(skip_special_tokens=True)
        self.ids: list[int] = []
        self.prefix = 0  # start of the context window
        self.read = 0  # tokens already turned into text

    def _decode(self, ids):
        return self.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    def add(self, ids: list[int]) -> str:
        """Take new token ids; return the text they complete (may be empty)."""
        if self.stream is not None:
            return self.stream.step(self.rust, ids) or ""
        self.ids.extend(ids)
        before = self._decode(self.ids[self.prefix:self.read])
        after = self._decode(self.ids[self.prefix:])
        # A trailing U+FFFD is half a UTF-8 character: wait for the rest.
        if len(after) > len(before) and not after.endswith("\ufffd"):
            self.prefix, self.read = self.read, len(self.ids)
            return after[len(before):]
        return ""

    def flush(self) -> str:
        """Whatever is still held back at the end (a dangling partial character)."""
        if self.stream is not None:
            return ""  # DecodeStream holds back only bytes that never became a character
        before = self._decode(self.ids[self.prefix:self.read])
        after = self._decode(self.ids[self.prefix:])
        self.prefix = self.read = len(self.ids)
        return after[len(before):] if len(after) > len(before) else ""


class ThinkSplitter:
    """Splits streamed text into answer and reasoning at <think> and </think>, even when a tag spans chunks."""

    def __init__(self, thinking: bool = False):
        self.thinking = thinking  # True when the prompt itself opened <think>
        self.buf = ""
        self.strip = thinking  # drop the blank line right after a tag

    def _out(self, text: str, out: list):
        if self.strip:
            text = text.lstrip()
            if text:
                self.strip = False
        if text:
            kind = "reasoning" if self.thinking else None
            if out and out[-1][0] == kind:
                out[-1] = (kind, out[-1][1] + text)
            else:
                out.append((kind, text))

    def feed(self, text: str) -> list[tuple[str | None, str]]:
        """Return [(kind, text)] ready to send; kind is "reasoning" or None."""
        self.buf += text
        out: list = []
        while True:
            tag = CLOSE if self.thinking else OPEN
            i = self.buf.find(tag)
            if i < 0:
                break
            self._out(self.buf[:i], out)
            self.buf = self.buf[i + len(tag):]
            self.thinking = not self.thinking
            self.strip = True
        # Hold back a tail that could be the start of the next tag.
        keep = 0
        for n in range(min(len(tag) - 1, len(self.buf)), 0, -1):
            if tag.startswith(self.buf[-n:]):
                keep = n
                break
        self._out(self.buf[:len(self.buf) - keep], out)
        self.buf = self.buf[len(self.buf) - keep:]
        return out

    def flush(self) -> list[tuple[str | None, str]]:
        """The held-back tail, at the end of the reply."""
        out: list = []
        self._out(self.buf, out)
        self.buf = ""
        return out


class StopText:
    """Ends a reply where one of `stops` appears (the model starting the next turn), which is never shown.

    Text that could be the start of a stop, and whitespace before it, is held back until it is known
    not to be; the reply's leading and trailing whitespace is dropped.
    """

    def __init__(self, stops: tuple[str, ...]):
        self.stops = stops
        self.buf = ""
        self.started = False
        self.hit = False  # a stop was seen: the reply is over

    def feed(self, text: str) -> str:
        """Return the text ready to send."""
        if self.hit:
            return ""
        self.buf += text
        if not self.started:
            self.buf = self.buf.lstrip()
            self.started = bool(self.buf)
        found = [i for i in (self.buf.find(s) for s in self.stops) if i >= 0]
        if found:
            out, self.buf, self.hit = self.buf[:min(found)].rstrip(), "", True
            return out
        keep = max((n for s in self.stops for n in range(1, min(len(s), len(self.buf)) + 1)
                    if self.buf.endswith(s[:n])), default=0)
        cut = len(self.buf) - keep
        while cut > 0 and self.buf[cut - 1].isspace():
            cut -= 1
        out, self.buf = self.buf[:cut], self.buf[cut:]
        return out

    def flush(self) -> str:
        """What was held back, at the end of the reply."""
        out, self.buf = ("" if self.hit else self.buf.rstrip()), ""
        return out
