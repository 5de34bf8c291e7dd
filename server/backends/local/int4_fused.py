"""Projections that read the same input as one 4-bit kernel call: a layer's q/k/v, its MLP's gate/up (decode.py).

torch's 4-bit kernel packs rows in independent blocks of 64, so the packed codes of layers with the same
input, group and planes stack along the output rows into one layer whose output is theirs side by side.
The stacked codes are the only copy: each layer's weight becomes a view of its rows (its scales are small
and kept). Fewer calls a token: 5 of the 7 projections of a decoder layer become 2.
"""
from __future__ import annotations

from types import SimpleNamespace

import torch

from . import int4


def fuse(layers: list) -> tuple[int4.Int4Linear, list[int]] | None:
    """(one layer computing all of `layers`' outputs side by side, their widths), or None where they cannot stack:
    not all plain 4-bit layers of one kind (a LoRA wrapper, a float layer), a bias, or rows not in blocks of 64."""
    kind = type(layers[0])
    if kind not in (int4.Int4Linear, int4.Int4x2Linear) or any(type(m) is not kind for m in layers):
        return None
    if any(m.bias is not None or m.out_features % 64 or m.in_features != layers[0].in_features for m in layers):
        return None
    widths = [m.out_features for m in layers]
    packed = torch.cat([m.weight.data for m in layers])
    sz = torch.cat([m.sz for m in layers], 1).contiguous()
    shape = SimpleNamespace(in_features=layers[0].in_features, out_features=sum(widths), bias=None)
    made = kind.restored(shape, packed, sz)
    start = 0
    for m, w in zip(layers, widths):
        m.weight = torch.nn.Parameter(packed[start:start + w], requires_grad=False)  # a view: one copy of the codes
        start += w
    return made, widths
