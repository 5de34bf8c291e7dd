"""Weight-only int8 layers for the CPU: an nn.Linear and a tied embedding over int8 rows with a float scale each."""
from __future__ import annotations

import torch

# Rows per call from which a Linear dequantizes its weight and multiplies in float: the int8 kernel
# is a matrix-vector one (2,048 x 640, best of 300 on a loaded 2-core machine: 8 rows 0.25 ms int8
# against 0.48 fp32, 128 rows 4.4 against 1.9).
FLOAT_FROM_ROWS = 32


# Rows rounded at a time: float temporaries of a few MB, not of the whole table (Gemma's output
# layer is 671 MB in fp32, and the load's peak memory is the server's peak).
CHUNK_ROWS = 4096


def row_int8(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(int8 rows, their float32 scales): symmetric, one scale per row."""
    w = w.detach()
    q = torch.empty(w.shape, dtype=torch.int8)
    scale = torch.empty(w.shape[0], dtype=torch.float32)
    for i in range(0, w.shape[0], CHUNK_ROWS):
        part = w[i:i + CHUNK_ROWS].float()
        s = (part.abs().amax(1) / 127).clamp(min=1e-12)
        q[i:i + CHUNK_ROWS] = torch.round(part / s[:, None]).clamp(-127, 127)
        scale[i:i + CHUNK_ROWS] = s
    return q, scale


class Int8Linear(torch.nn.Linear):
    """nn.Linear over int8 weights; a subclass,
    so LoRA adapters wrap it as any Linear (peft leaves int weights uncast)."""

    def __init__(self, linear: torch.nn.Linear):
        torch.nn.Module.__init__(self)
        self.in_features, self.out_features = linear.in_features, linear.out_features
        q, scale = row_int8(linear.weight)
        self.weight = torch.nn.Parameter(q, requires_grad=False)
        self.register_buffer("scale", scale, persistent=False)
        # The kernel multiplies by bf16 scales; ones there and the fp32 scale after keep 24 bits of it.
        self.register_buffer("ones", torch.ones(self.out_features, dtype=torch.bfloat16), persistent=False)
        bias = None if linear.bias is None else torch.nn.Parameter(linear.bias.detach().float(), requires_grad=False)
        self.register_parameter("bias", bias)

    def embedding(self, ids: torch.Tensor) -> torch.Tensor:
        """The float rows of `ids` (a tied input embedding's lookup)."""
        return self.weight[ids].float() * self.scale[ids].unsqueeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, self.in_features)
        if flat.shape[0] >= FLOAT_FROM_ROWS:
            y = torch.nn.functional.linear(flat.float(), self.weight.float() * self.scale[:, None])
        else:
            y = torch.ops.aten._weight_int8pack_mm(flat.to(torch.bfloat16), self.weight, self.ones).float() * self.scale
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], self.out_features).to(x.dtype)


class TiedEmbedding(torch.nn.Module):
    """An input embedding reading the rows of the output layer it was tied to (int8's or the two-stage one's
    `embedding(ids)`): one copy of the table."""

    def __init__(self, emb: torch.nn.Embedding, head):
        super().__init__()
        self.num_embeddings, self.embedding_dim, self.padding_idx = (emb.num_embeddings, emb.embedding_dim,
                                                                     emb.padding_idx)
        self.head = [head]  # a list: the output layer is not registered twice as a submodule
        # Gemma multiplies its embeddings by sqrt(hidden), as its own module does.
        factor = getattr(emb, "embed_scale", None)
        self.factor = None if factor is None else float(factor)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out = self.head[0].embedding(ids)
        return out * self.factor if self.factor is not None else out
