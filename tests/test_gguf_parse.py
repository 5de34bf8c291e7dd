"""The faster GGUF header parse reads a file exactly as gguf's own reader does, and once per file."""
import numpy as np

import gguf
from server.backends.local.gguf_parse import one_gguf_parse


def write_gguf(path: str) -> None:
    """A small GGUF with what a model's holds: scalars, a string, a vocabulary of strings, tensors."""
    w = gguf.GGUFWriter(path, "llama")
    w.add_block_count(2)
    w.add_string("general.name", "tiny 模型")
    w.add_array("tokenizer.ggml.tokens", [f"tok{i}" for i in range(300)] + ["▁你好", "<eos>", ""])
    w.add_array("tokenizer.ggml.scores", [float(-i) for i in range(303)])
    w.add_tensor("blk.0.weight", np.arange(24, dtype=np.float32).reshape(4, 6))
    w.add_tensor("blk.1.weight", np.ones((3, 5), dtype=np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def test_the_fast_reader_sees_the_same_fields_and_tensors(tmp_path):
    path = str(tmp_path / "tiny.gguf")
    write_gguf(path)
    plain = gguf.GGUFReader(path)
    with one_gguf_parse():
        fast = gguf.GGUFReader(path)
        assert gguf.GGUFReader(path) is fast  # the tokenizer, the config and the weights share one parse
    assert type(fast) is not gguf.GGUFReader and isinstance(fast, gguf.GGUFReader)  # the fast one, a kind of it
    assert list(fast.fields) == list(plain.fields)
    for name, field in plain.fields.items():
        other = fast.fields[name]
        assert (other.data, other.types, other.offset) == (field.data, field.types, field.offset), name
        assert [(p.dtype, p.tolist()) for p in other.parts] == [(p.dtype, p.tolist()) for p in field.parts], name
    tokens = fast.fields["tokenizer.ggml.tokens"]
    assert [bytes(tokens.parts[i]).decode() for i in tokens.data][-3:] == ["▁你好", "<eos>", ""]
    assert [(t.name, t.tensor_type, t.data.tolist()) for t in fast.tensors] == \
        [(t.name, t.tensor_type, t.data.tolist()) for t in plain.tensors]
    assert gguf.GGUFReader(path) is not fast  # the patch ends with the block
