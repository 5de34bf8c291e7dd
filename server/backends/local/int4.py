"""Weight-only 4-bit layers for the CPU: torch's int4 kernel with a scale and zero per 32 inputs, bf16 activations.

torch's `_weight_int4pack_mm_for_cpu` computes x @ w.T with w = (q - 8) * scale + zero, q in 0..15, one
(scale, zero) pair in bf16 per 32 inputs of a row. One row through Gemma's 262,144 x 640 output layer took
4.75 ms against 11.7 int8 and 26.7 fp32 on this project's 2-core AVX-512 machine (quiet); with fp32
activations the same kernel took 172 ms, so the input goes in as bf16.

A GGUF's Q4_K tensor is already in this form: w = d * sc * q - dmin * m per 32 inputs, so its codes
are taken as they are (scale = d * sc, zero = 8 * d * sc - dmin * m, rounded to bf16). Other tensors
are rounded from their float weights: min to max over each 32 inputs in 16 steps.
"""
from __future__ import annotations

import numpy as np
import torch

GROUP = 32
# Rows rounded at a time: a few MB of float temporaries, not the whole table (671 MB for Gemma's output layer).
CHUNK_ROWS = 8192


def round_int4(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(codes uint8 [N, K] in 0..15, scales [N, K/32], zeros [N, K/32]): min to max of each 32 inputs in 16 steps."""
    n, k = w.shape
    codes = torch.empty((n, k), dtype=torch.uint8)
    scales = torch.empty((n, k // GROUP), dtype=torch.float32)
    zeros = torch.empty((n, k // GROUP), dtype=torch.float32)
    for i in range(0, n, CHUNK_ROWS):
        g = w[i:i + CHUNK_ROWS].detach().float().reshape(-1, k // GROUP, GROUP)
        lo, hi = g.amin(-1), g.amax(-1)
        s = ((hi - lo) / 15).clamp(min=1e-10)
        # The scale and zero the kernel will read are bf16: round the codes against those.
        s_b = s.bfloat16().float()
        z_b = (lo + 8 * s).bfloat16().float()
        q = torch.round((g - z_b[..., None]) / s_b[..., None] + 8).clamp(0, 15)
        codes[i:i + CHUNK_ROWS] = q.reshape(-1, k).to(torch.uint8)
        scales[i:i + CHUNK_ROWS], zeros[i:i + CHUNK_ROWS] = s_b, z_b
    return codes, scales, zeros


def q4k_int4(blocks: np.ndarray, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A GGUF Q4_K tensor's own codes, scales and zeros (as round_int4 gives them) from its raw rows of blocks."""
    from gguf.quants import Q4_K

    n = blocks.shape[0]
    b = blocks.reshape(-1, 144)  # 256 weights a block: d, dmin (fp16), 12 bytes of 6-bit scales and mins, 128 of codes
    d: np.ndarray = b[:, 0:2].copy().view(np.float16).astype(np.float32)
    dmin: np.ndarray = b[:, 2:4].copy().view(np.float16).astype(np.float32)
    sc, m = Q4_K.get_scale_min(b[:, 4:16].copy())
    qs = b[:, 16:].reshape(-1, 4, 1, 32) >> np.array([0, 4], dtype=np.uint8).reshape(1, 1, 2, 1)
    codes = (qs & np.uint8(0x0F)).reshape(n, k)
    scale = d * sc.astype(np.float32)  # [blocks, 8]: w = scale * q - dmin * m = (q - 8) * scale + zero
    zero = 8 * scale - dmin * m.astype(np.float32)
    return (torch.from_numpy(codes.copy()), torch.from_numpy(scale.reshape(n, -1)),
            torch.from_numpy(zero.reshape(n, -1)))


def dequantize(codes: torch.Tensor, scales: torch.Tensor, zeros: torch.Tensor) -> torch.Tensor:
    """The float weights the kernel multiplies by (scales and zeros as bf16 holds them)."""
    n, k = codes.shape
    s = scales.bfloat16().float().repeat_interleave(GROUP, 1)
    z = zeros.bfloat16().float().repeat_interleave(GROUP, 1)
    return (codes.float() - 8) * s + z


def pack(codes: torch.Tensor, scales: torch.Tensor, zeros: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(packed weight, scales_and_zeros) as the kernel reads them."""
    packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(codes.to(torch.int32), 1)
    sz = torch.stack([scales.t(), zeros.t()], -1).to(torch.bfloat16).contiguous()  # [K/32, N, 2]
    return packed, sz


def matmul(x: torch.Tensor, packed: torch.Tensor, sz: torch.Tensor) -> torch.Tensor:
    """x [M, K] (any float) times the packed weight: fp32 [M, N]."""
    return torch.ops.aten._weight_int4pack_mm_for_cpu(x.to(torch.bfloat16), packed, GROUP, sz).float()


class Int4Linear(torch.nn.Linear):
    """nn.Linear over 4-bit weights; a subclass, so LoRA adapters wrap it as any Linear (peft leaves uint8 uncast)."""

    def __init__(self, linear: torch.nn.Linear, codes=None, scales=None, zeros=None):
        torch.nn.Module.__init__(self)
        self.in_features, self.out_features = linear.in_features, linear.out_features
        if codes is None:
            codes, scales, zeros = round_int4(linear.weight)
        packed, sz = pack(codes, scales, zeros)
        self.weight = torch.nn.Parameter(packed, requires_grad=False)
        self.register_buffer("sz", sz, persistent=False)
        bias = None if linear.bias is None else torch.nn.Parameter(linear.bias.detach().float(), requires_grad=False)
        self.register_parameter("bias", bias)

    @classmethod
    def restored(cls, linear: torch.nn.Linear, packed: torch.Tensor, sz: torch.Tensor):
        """The layer from a cache's packed weight and scales (int4_cache.py), converting nothing."""
        made = cls.__new__(cls)
        torch.nn.Module.__init__(made)
        made.in_features, made.out_features = linear.in_features, linear.out_features
        made.weight = torch.nn.Parameter(packed, requires_grad=False)
        made.register_buffer("sz", sz, persistent=False)
        bias = None if linear.bias is None else torch.nn.Parameter(linear.bias.detach().float(), requires_grad=False)
        made.register_parameter("bias", bias)
        return made

    # Rows from which dense_matmul is faster (2,048 x 640, one thread: 256 rows 6.2 ms against the kernel's 8.0).
    DENSE_FROM = 256
    PLANES = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, self.in_features)
        # A batch of prompts (rows, tokens, K) takes the path each prompt takes alone: its values bit for bit.
        tokens = x.shape[-2] if x.dim() > 2 else flat.shape[0]
        y = dense_matmul(flat, self.weight, self.sz, self.PLANES) if tokens >= self.DENSE_FROM else None
        if y is None:
            y = matmul(flat if self.PLANES == 1 else torch.cat([flat, flat], 1), self.weight, self.sz)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], self.out_features).to(x.dtype)


def path(tokens: int) -> int:
    """Which path each kind of 4-bit layer takes for a prompt of `tokens` tokens (the number of DENSE_FROMs reached):
    prompts prefilled together take one path, so each gets what it would alone."""
    return sum(tokens >= kind.DENSE_FROM for kind in (Int4Linear, Int4x2Linear))


def usable(linear: torch.nn.Linear) -> bool:
    """Whether the kernel takes this layer: inputs in whole groups of 32, outputs a multiple of 16 (its packing)."""
    return type(linear) is torch.nn.Linear and linear.in_features % GROUP == 0 and linear.out_features % 16 == 0


def planes(q: torch.Tensor, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Symmetric 5- or 8-bit codes q (-128..127) with a scale d per 32 inputs (GGUF Q5_0, Q8_0) as two 4-bit planes.

    q = lo + 16 * hi with lo = q mod 16 and hi = q // 16 in -8..7, so w = d * q is (lo - 8) * d + 8 * d plus
    (hi + 8 - 8) * 16 * d: the kernel's form, summed over twice the inputs. Its zero is 8 * d, so rounding it
    to bf16 moves a weight by at most d / 64 (a zero near 128 * d would move it by a quarter step).
    Returns (codes [N, 2K], scales [N, 2K/32], zeros [N, 2K/32]); the input goes in twice, [x, x].
    """
    n, k = q.shape
    q = q.to(torch.int16)
    lo, hi = torch.remainder(q, 16), torch.div(q, 16, rounding_mode="floor") + 8
    codes = torch.cat([lo, hi], 1).to(torch.uint8)
    scales = torch.cat([d, 16 * d], 1).float()
    zeros = torch.cat([8 * d, torch.zeros_like(d)], 1).float()
    return codes, scales, zeros


class Int4x2Linear(Int4Linear):
    """A Linear whose 5- or 8-bit GGUF weights run as two 4-bit planes in one kernel call (planes())."""

    # Two planes: 128 rows 7.1 ms against the kernel's 8.2.
    DENSE_FROM = 128
    PLANES = 2

    def __init__(self, linear: torch.nn.Linear, q: torch.Tensor, d: torch.Tensor):
        super().__init__(linear, *planes(q, d))



def dense_matmul(x: torch.Tensor, packed: torch.Tensor, sz: torch.Tensor, planes: int) -> torch.Tensor | None:
    """x [M, K] times the packed weight through fp32 weights made for this call; None where the packing is unknown.

    The kernel works row by row: 512 rows through a 2,048 x 640 two-plane layer took 32.7 ms against 11.7
    this way (one thread, loaded 2-core machine), so prompts take this path (DENSE_FROM). The packing,
    torch's own, holds 64 rows a block: row r's code k in byte (k * 32 + r % 32), low nibble for r < 32;
    a self-check on a sample (layout_known) guards against another torch laying it out otherwise.
    """
    n = packed.shape[0]
    if n % 64 or not layout_known():
        return None
    w = dense_weight(packed, sz, planes)  # [N / 32, K, 32]: 32 output rows of each block-half side by side
    y = torch.matmul(x.float(), w)  # [N / 32, M, 32]
    return y.permute(1, 0, 2).reshape(x.shape[0], n)


def dense_weight(packed: torch.Tensor, sz: torch.Tensor, planes: int) -> torch.Tensor:
    """The fp32 weights [N / 32, K, 32] the kernel multiplies by, in its packing's order: (q - 8) * scale + zero.

    Made from one-byte codes in one float pass and one multiply: (q - 8) * scale is exact in fp32 (a bf16 scale
    times a small integer), so adding the zero after rounds as the kernel's form does. Two planes made by
    planes() (scale d, zero 8 d; scale 16 d, zero 0) are the 8-bit code lo + 16 (hi - 8) times d, exactly:
    the bytes are joined first, so the float passes run over K inputs instead of 2 K. The earlier form (sub,
    mul, add over both planes, then a sum) took as long as the matmuls on a 524-token prompt tail.
    """
    n, k2 = packed.shape[0], packed.shape[1] * 2
    g = k2 // GROUP
    v = packed.view(n // 64, g, GROUP, 32)  # [block, group, k in group, row in half]
    s, z = (sz[..., i].reshape(planes, g // planes, n // 64, 2, 1, 32).permute(0, 2, 3, 1, 4, 5).float()
            for i in (0, 1))  # [plane, block, half, group, 1, row]
    if planes == 2 and _made_by_planes(s, z):
        lo, hi = v[:, :g // 2], v[:, g // 2:]
        # lo + 16 hi - 128 as a byte: the code, with 0x80 flipping 0..255 to -128..127
        q = torch.stack([(lo & 15) | ((hi & 15) << 4), (lo >> 4) | (hi & 0xF0)], 1) ^ 0x80
        return q.view(torch.int8).float().mul_(s[0]).reshape(n // 32, k2 // 2, 32)
    codes = torch.stack([v & 15, v >> 4], 1).view(torch.int8).view(n // 64, 2, planes, g // planes, GROUP, 32)
    w = (codes[:, :, 0] - 8).float().mul_(s[0]).add_(z[0])
    for p in range(1, planes):
        w += (codes[:, :, p] - 8).float().mul_(s[p]).add_(z[p])
    return w.reshape(n // 32, k2 // planes, 32)


def _made_by_planes(s: torch.Tensor, z: torch.Tensor) -> bool:
    """Whether two planes' scales and zeros are those planes() gives: (d, 8 d) and (16 d, 0)."""
    return torch.equal(z[0], 8 * s[0]) and torch.equal(s[1], 16 * s[0]) and not z[1].any()


_LAYOUT: list[bool] = []


def layout_known() -> bool:
    """Whether this torch packs codes as dense_matmul reads them (checked once)."""
    if not _LAYOUT:
        q = torch.randint(0, 16, (128, 64), dtype=torch.int32, generator=torch.Generator().manual_seed(0))
        packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(q, 1)
        v = packed.view(2, 2, GROUP, 32)
        codes = torch.stack([v & 15, v >> 4], 1).permute(0, 1, 4, 2, 3).reshape(128, 64)
        _LAYOUT.append(torch.equal(codes.int(), q))
    return _LAYOUT[0]
