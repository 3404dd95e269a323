#!/usr/bin/python3
"""Tiny random BERT reference for tests/test_bert.cpp (forward parity of src/models/bert).

An independent BERT written with torch.nn modules in the HuggingFace layout (module names equal
transformers' BertForMaskedLM state-dict keys; modeling_bert.py semantics: post-LN encoder, erf
GELU, tanh pooler, additive mask with the dtype's lowest value, MLM head tied to the word
embeddings). Random weights with a large spread (not HF's std 0.02, which would make every
output nearly equal and the parity test weak) are saved as safetensors by a writer built from
struct + json (no safetensors package); the reference outputs are computed in float64 from the
float32 weights.

Writes tests/data/text/tiny_bert/{config.json, model.safetensors, reference.safetensors}.
Run from the repository root:  /usr/bin/python3 scripts/make_text_bert_reference.py
"""
import json
import os
import struct

import torch
from torch import nn

OUT = os.path.join("tests", "data", "text", "tiny_bert")
CFG = dict(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
           max_position_embeddings=16, type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12,
           hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, initializer_range=0.02, pad_token_id=0,
           model_type="bert", position_embedding_type="absolute", architectures=["BertForMaskedLM"])


class Embeddings(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"])
        s.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        s.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        s.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        s.register_buffer("position_ids", torch.arange(c["max_position_embeddings"]).unsqueeze(0))

    def forward(s, ids, tt):
        pos = s.position_ids[:, : ids.shape[1]]
        return s.LayerNorm(s.word_embeddings(ids) + s.token_type_embeddings(tt) + s.position_embeddings(pos))


class SelfAttention(nn.Module):
    def __init__(s, c):
        super().__init__()
        h = c["hidden_size"]
        s.nh, s.hd = c["num_attention_heads"], h // c["num_attention_heads"]
        s.query, s.key, s.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)

    def forward(s, x, mask):
        B, T, _ = x.shape
        sp = lambda t: t.view(B, T, s.nh, s.hd).permute(0, 2, 1, 3)
        q, k, v = sp(s.query(x)), sp(s.key(x)), sp(s.value(x))
        scores = q @ k.transpose(-1, -2) / (s.hd ** 0.5) + mask
        probs = scores.softmax(-1)
        return (probs @ v).permute(0, 2, 1, 3).reshape(B, T, s.nh * s.hd), probs


class DenseLN(nn.Module):
    def __init__(s, i, o, eps):
        super().__init__()
        s.dense, s.LayerNorm = nn.Linear(i, o), nn.LayerNorm(o, eps=eps)

    def forward(s, x, res):
        return s.LayerNorm(s.dense(x) + res)


class Attention(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.self = SelfAttention(c)
        s.output = DenseLN(c["hidden_size"], c["hidden_size"], c["layer_norm_eps"])

    def forward(s, x, mask):
        a, p = s.self(x, mask)
        return s.output(a, x), p


class Intermediate(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(s, x):
        return nn.functional.gelu(s.dense(x))  # erf form


class Layer(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.attention, s.intermediate = Attention(c), Intermediate(c)
        s.output = DenseLN(c["intermediate_size"], c["hidden_size"], c["layer_norm_eps"])

    def forward(s, x, mask):
        a, p = s.attention(x, mask)
        return s.output(s.intermediate(a), a), p


class Encoder(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])


class Pooler(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(s, x):
        return torch.tanh(s.dense(x[:, 0]))


class BertModel(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.embeddings, s.encoder, s.pooler = Embeddings(c), Encoder(c), Pooler(c)

    def forward(s, ids, mask, tt):
        x = s.embeddings(ids, tt)
        ext = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(torch.float32).min
        atts = []
        for l in s.encoder.layer:
            x, p = l(x, ext)
            atts.append(p)
        return x, s.pooler(x), atts


class Transform(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        s.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(s, x):
        return s.LayerNorm(nn.functional.gelu(s.dense(x)))


class Predictions(nn.Module):
    def __init__(s, c, word_emb):
        super().__init__()
        s.transform = Transform(c)
        s.decoder = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        s.decoder.weight = word_emb.weight  # tied, as HF
        s.bias = nn.Parameter(torch.zeros(c["vocab_size"]))

    def forward(s, x):
        return s.decoder(s.transform(x)) + s.bias


class OnlyMLMHead(nn.Module):
    def __init__(s, c, word_emb):
        super().__init__()
        s.predictions = Predictions(c, word_emb)


class BertForMaskedLM(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.bert = BertModel(c)
        s.cls = OnlyMLMHead(c, s.bert.embeddings.word_embeddings)

    def forward(s, ids, mask, tt):
        seq, pooled, atts = s.bert(ids, mask, tt)
        return seq, pooled, atts, s.cls.predictions(seq)


DT = {torch.float32: ("F32", "<f4"), torch.float64: ("F64", "<f8"), torch.int64: ("I64", "<i8")}


def write_safetensors(path, tensors, metadata=None):
    """safetensors by hand: u64 header length, JSON header, little-endian data."""
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().astype(DT[t.dtype][1]).tobytes()
        header[name] = {"dtype": DT[t.dtype][0], "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    torch.manual_seed(20240607)
    os.makedirs(OUT, exist_ok=True)
    m = BertForMaskedLM(CFG)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.2 * torch.randn_like(p))
            else:
                p.copy_(0.35 * torch.randn_like(p))
        m.bert.embeddings.word_embeddings.weight[0].zero_()
    state = dict(m.state_dict())  # includes the tied decoder weight and position_ids, as old HF saves
    write_safetensors(os.path.join(OUT, "model.safetensors"), state, {"format": "pt"})
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(CFG, f, indent=2)

    g = torch.Generator().manual_seed(7)
    B, T = 3, 12
    ids = torch.randint(1, CFG["vocab_size"], (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.int64)
    mask[1, 9:] = 0
    mask[2, 5:] = 0
    ids[mask == 0] = 0
    tt = torch.zeros(B, T, dtype=torch.int64)
    tt[0, 6:] = 1
    m64 = m.double().eval()
    with torch.no_grad():
        seq, pooled, atts, logits = m64(ids, mask, tt)
    out = {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt, "sequence_output": seq,
           "pooled_output": pooled, "mlm_logits": logits}
    for i, a in enumerate(atts):
        out["attentions.%d" % i] = a
    write_safetensors(os.path.join(OUT, "reference.safetensors"), out,
                      {"provenance": "scripts/make_text_bert_reference.py, torch %s, float64 forward" % torch.__version__})


if __name__ == "__main__":
    main()
