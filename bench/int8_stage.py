"""A first stage for the two-stage output layer on torch's dynamic int8 kernel (fbgemm): int8 rows, 7-bit inputs.

Measured, not chosen by the server: two passes over the table cost more than the 4-bit planes' one for a
lone row, about the same for 8, and its bound (5x the planes') leaves thousands of tokens in doubt where
the distribution is flat (bench/RESULTS.md, "Round 6"). bench.decode_profile's lean-int8 path runs it.

`quantized.linear_dynamic` rounds the input to 7 bits per tensor (reduce_range: its sums of two u8 x s8
products cannot overflow 16 bits) and multiplies it by int8 rows with a scale each. Gemma's 262,144 x 640
output layer, one thread on this 2-core AVX-512 machine (load ~1.3, best of 10): 1 row 8.0 ms, 4 rows 12.9,
8 rows 18.2, against torch's 4-bit kernel on the two planes of the Q8_0 codes (two_stage.Planes) at about
17, 32 and 64: that kernel takes rows one by one. Its 7-bit input is too coarse to be the answer (max error
0.064 on random logits up to 2.7), so it is a first stage only, and its bound() is wider than the planes'.

The bound, per row of the input: the kernel multiplies x_hat (x rounded to the grid of the scale s that
`torch._choose_qparams_per_tensor` picks over all rows, as fbgemm picks it) by w_hat (each row rounded to
its int8 scale), exactly in integers, then once by a float scale. So for every token t
  |w.x - w_hat.x_hat| <= |w.(x - x_hat)| + |(w - w_hat).x_hat| <= |w_t| |x - x_hat| + |w_t - w_hat_t| |x_hat|
(Cauchy-Schwarz), plus the float rounding of its output. |x - x_hat| is measured by rounding x the same way
here; where our rounding and the kernel's could break a tie differently, an element's error moves by a hair
(TIE). A self-check at build compares the kernel with that arithmetic and gives no stage if they disagree
(another engine, another rounding). x86 only: ARM's engine (qnnpack) is untested, so there is none there.
"""
from __future__ import annotations

import logging
import warnings

import torch

log = logging.getLogger(__name__)

# Where our rounding of x and the kernel's could differ (it multiplies by 1/s in float, we divide in double): an
# element within this many grid steps of a tie. The two differ by a few float ulps of numbers up to 128 (~3e-5).
TIE = 1e-4
# The output: int32 sums (exact: 7-bit inputs by int8 weights), converted to float and scaled twice; two summed.
OUT_ROUNDING = 2.0 ** -18
CHUNK_ROWS = 8192


def per_row_int8(exact, vocab: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(codes int8 [V, K], scales fp32 [V], |w - w_hat| [V], |w| [V]) of the exact rows, symmetric, a scale per row."""
    codes, scales = None, torch.empty(vocab)
    err, norm = torch.empty(vocab), torch.empty(vocab)
    for i in range(0, vocab, CHUNK_ROWS):
        w = exact.table(i, min(vocab, i + CHUNK_ROWS))
        if codes is None:
            codes = torch.empty((vocab, w.shape[1]), dtype=torch.int8)
        s = (w.abs().amax(1) / 127).clamp(min=1e-12)
        q = torch.round(w / s[:, None]).clamp(-127, 127)
        codes[i:i + w.shape[0]] = q.to(torch.int8)
        scales[i:i + w.shape[0]] = s
        err[i:i + w.shape[0]] = (w - q * s[:, None]).norm(dim=1)
        norm[i:i + w.shape[0]] = w.norm(dim=1)
    assert codes is not None
    return codes, scales, err, norm


def engine() -> str | None:
    """The quantized engine whose dynamic linear the bound is derived for (fbgemm, x86 only); None elsewhere."""
    engines = torch.backends.quantized.supported_engines
    return "fbgemm" if "fbgemm" in engines and torch.backends.cpu.get_cpu_capability().startswith("AVX") else None


def prepack(codes: torch.Tensor, scales: torch.Tensor):
    """fbgemm's packed weight of these rows (its own copy: the codes may be let go), or None where it is not here."""
    name = engine()
    if name is None:
        return None
    was = torch.backends.quantized.engine
    try:
        # The packing picks the kernel: "x86" would pack symmetric weights for oneDNN on a VNNI CPU, which
        # rounds the input otherwise; fbgemm's is the one measured and checked.
        torch.backends.quantized.engine = name
        with warnings.catch_warnings():  # torch 2.13 marks quantized tensors deprecated: where they go, the planes
            warnings.simplefilter("ignore", UserWarning)
            w = torch._make_per_channel_quantized_tensor(codes, scales.double(),
                                                         torch.zeros(len(scales), dtype=torch.long), 0)
        return torch.ops.quantized.linear_prepack(w, None)
    except Exception as e:  # an engine that cannot pack: the planes serve
        log.info("the dynamic int8 kernel is not usable here (%s)", e)
        return None
    finally:
        torch.backends.quantized.engine = was


def rounded(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float, int]:
    """(x_hat, x_in, s, doubt): x rounded as the kernel rounds it (7 bits, one scale and zero over the whole
    tensor); x_in, x with every element that lay within TIE of a tie moved 2 TIE towards our rounding, so the
    kernel rounds x_in to x_hat too; `doubt`, the elements where that is not sure (a tie at the tensor's
    minimum or maximum, which stay put: they set the scale)."""
    s, zero = torch._choose_qparams_per_tensor(x, True)
    t = x.double() / s + zero
    q = t.round().clamp(0, 127)
    x_hat = ((q - zero) * s).float()
    near = (t - t.floor() - 0.5).abs() < TIE
    if not bool(near.any()):
        return x_hat, x, s, 0
    lo, hi = x.min(), x.max()
    moved = torch.where(near, x + (x_hat - x).sign() * (2 * TIE * s), x).clamp(lo, hi)
    doubt = near & ((x == lo) | (x == hi) | (moved == lo) | (moved == hi))
    return x_hat, moved, s, int(doubt.sum())


class DynamicInt8:
    """Stage one: fbgemm's dynamic int8 linear over the rows rounded to int8 with a scale each, twice a step.

    One pass rounds Gemma's hidden state (a few dimensions at 30-70, the rest far smaller) to a grid of
    0.5-0.8: its bound was ~10 logits and 1,000-260,000 tokens a step fell within it (48 steps of the
    built-in model, 11:20 UTC). So the input's rounding error goes through the kernel again: x_hat + e_hat
    is within |e - e_hat| (a grid 127 times finer) of x, and 1-390 tokens a step (40 on average) are
    recomputed against the rows' own rounding error, per token.
    """

    def __init__(self, packed, vocab: int, in_features: int, row_error: torch.Tensor, row_norm: float):
        self.packed, self.vocab, self.in_features = packed, vocab, in_features
        self.row_error = row_error  # |w_t - w_hat_t| per token (zeros: rows that are int8 with a scale each)
        self.error_norm = float(row_error.max())
        self.row_norm = row_norm  # the largest |w_t|

    @classmethod
    def made(cls, exact) -> DynamicInt8 | None:
        """The stage over `exact`'s rows (two_stage.ExactRows), or None where the kernel is not here or disagrees."""
        if engine() is None:
            return None
        if exact.scales is not None and exact.scales.shape[-1] == 1:  # rows with a scale each: the kernel's own
            codes, scales = exact.codes, exact.scales[:, 0].float()
            norm = max(float(exact.table(i, min(exact.vocab, i + CHUNK_ROWS)).norm(dim=1).max())
                       for i in range(0, exact.vocab, CHUNK_ROWS))
            err = torch.zeros(exact.vocab)
        else:
            codes, scales, err, norms = per_row_int8(exact, exact.vocab)
            norm = float(norms.max())
        stage = cls.packed_from(codes, scales, err, norm)
        return stage if stage is not None and stage.agrees(exact) else None

    @classmethod
    def packed_from(cls, codes: torch.Tensor, scales: torch.Tensor, row_error: torch.Tensor,
                    row_norm: float) -> DynamicInt8 | None:
        packed = prepack(codes, scales)
        return None if packed is None else cls(packed, codes.shape[0], codes.shape[1], row_error, row_norm)

    def kernel(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.quantized.linear_dynamic(x, self.packed, True)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x_hat, x_in, _, _ = rounded(x)
        e = x - x_hat
        _, e_in, _, _ = rounded(e)
        return self.kernel(x_in) + self.kernel(e_in)

    def bound(self, x: torch.Tensor, approx: torch.Tensor) -> torch.Tensor:
        """An upper limit on |exact logit - approx logit|: [M, V], or [M, 1] where the rows are the kernel's own.

        The kernel took x_hat + e_hat (its roundings of x and of e = x - x_hat, as rounded() gives them); r =
        x - x_hat - e_hat = e - e_hat but for a grid step where a `doubt` element went the other way, so
        |exact - approx| <= |w_t| |r| + |w_t - w_hat_t| (|x| + |r|) and the float rounding of two outputs."""
        x_hat, _, s, doubt = rounded(x)
        e = x - x_hat
        e_hat, _, s2, doubt2 = rounded(e)
        r = (e - e_hat).norm(dim=1) + s * doubt ** 0.5 + s2 * doubt2 ** 0.5
        fixed = (r * self.row_norm) * 1.001 + approx.abs().amax(dim=1) * OUT_ROUNDING + 1e-5
        if self.error_norm == 0:
            return fixed[:, None]
        return torch.addcmul(fixed[:, None], self.row_error[None, :], ((x.norm(dim=1) + r) * 1.001)[:, None])

    def agrees(self, exact, samples: int = 256) -> bool:
        """Whether one kernel pass gives x_hat . w_hat (our rounding of the input) on a sample of rows and inputs."""
        g = torch.Generator().manual_seed(0)
        ids = torch.randint(0, self.vocab, (samples,), generator=g)
        x = torch.randn(3, self.in_features, generator=g) * torch.tensor([[1.0], [30.0], [0.01]])
        x[1, 0] = 400.0  # an outlier, as a model's hidden state has
        w = exact.rows(ids)
        s = (w.abs().amax(1) / 127).clamp(min=1e-12)
        w_hat = torch.round(w / s[:, None]).clamp(-127, 127) * s[:, None]
        x_hat, x_in, step, doubt = rounded(x)
        got = self.kernel(x_in)[:, ids]
        want = x_hat.double() @ w_hat.double().t()
        tol = want.abs() * 1e-5 + (step * w_hat.abs().amax(1).double() if doubt else 0.0)
        ok = bool(((got.double() - want).abs() <= tol + 1e-6).all())
        if not ok:
            log.info("the dynamic int8 kernel does not round as expected here")
        return ok
