#!/usr/bin/python3
"""Python PyTorch side of bench/models.sh: forward+backward throughput of torchvision's
convnext_tiny and of the cpu-small MSM-TC written in PyTorch (same sizes as
src/models/registry.cpp's cpu-small preset), with the same batch and threads as the C++ side.
Prints one JSON line per measurement."""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.convnext import CNBlockConfig, ConvNeXt

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import models_reference as ref  # noqa: E402


class BertLayer(nn.Module):
    """HF BertLayer shape: self-attention (q, k, v, output dense + LayerNorm), intermediate, output."""

    def __init__(self, h, heads, inter):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attn_out, self.ln1 = nn.Linear(h, h), nn.LayerNorm(h, eps=1e-12)
        self.inter, self.out, self.ln2 = nn.Linear(h, inter), nn.Linear(inter, h), nn.LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(0.1)

    def forward(self, x, bias):
        B, L, H = x.shape
        d = H // self.heads
        q, k, v = (t(x).view(B, L, self.heads, d).transpose(1, 2) for t in (self.query, self.key, self.value))
        p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, -1)
        a = (self.drop(p) @ v).transpose(1, 2).reshape(B, L, H)
        x = self.ln1(x + self.drop(self.attn_out(a)))
        return self.ln2(x + self.drop(self.out(F.gelu(self.inter(x))))), p


class Bert(nn.Module):
    def __init__(self, vocab, h=128, layers=2, heads=4, inter=512, max_pos=256):
        super().__init__()
        self.word, self.pos, self.tok_type = nn.Embedding(vocab, h), nn.Embedding(max_pos, h), nn.Embedding(2, h)
        self.ln, self.drop = nn.LayerNorm(h, eps=1e-12), nn.Dropout(0.1)
        self.layers = nn.ModuleList([BertLayer(h, heads, inter) for _ in range(layers)])
        self.pool = nn.Linear(h, h)

    def forward(self, ids, mask):
        L = ids.shape[1]
        pos = torch.arange(L).unsqueeze(0)
        x = self.drop(self.ln(self.word(ids) + self.pos(pos) + self.tok_type(torch.zeros_like(ids))))
        bias = (1.0 - mask[:, None, None, :].float()) * -10000.0
        for layer in self.layers:
            x, _ = layer(x, bias)
        return torch.tanh(self.pool(x[:, 0]))


class BagOfTokens(nn.Module):
    def __init__(self, vocab, h=128):
        super().__init__()
        self.emb, self.norm = nn.Embedding(vocab, h), nn.LayerNorm(h)

    def forward(self, ids, mask):
        m = mask.float().unsqueeze(-1)
        return self.norm((self.emb(ids) * m).sum(1) / m.sum(1).clamp_min(1.0))


def proj(i, o):
    return nn.Sequential(nn.Linear(i, o), nn.LayerNorm(o))


class MsmTC(nn.Module):
    """cpu-small MSM-TC: ConvNeXt-atto (64 px), dual-path ViT (64 / 96 px), text, clinical MLP,
    per-modality projection to 64, missing tokens, fusion MLP head."""

    def __init__(self, vocab, n_clin, text):
        super().__init__()
        cn = ConvNeXt([CNBlockConfig(40, 80, 2), CNBlockConfig(80, 160, 2), CNBlockConfig(160, 320, 6),
                       CNBlockConfig(320, None, 2)], num_classes=1)
        self.cn_features, self.cn_norm = cn.features, cn.classifier[0]
        self.vit = ref.DualPathCrossViT(img=(64, 96), patch=(8, 16), dims=(64, 128), heads=(2, 4),
                                        mlp_ratio=(3.0, 3.0), depth=[(1, 2, 0), (1, 2, 0)])
        self.text = Bert(vocab) if text == "bert" else BagOfTokens(vocab)
        self.clin = nn.ModuleDict({"fc1": nn.Linear(n_clin, 32), "fc2": nn.Linear(32, 32)})
        self.clin_drop = nn.Dropout(0.2)
        self.proj = nn.ModuleDict({"convnext": proj(320, 64), "vit": proj(192, 64), "text": proj(128, 64),
                                   "clinical": proj(32, 64)})
        self.missing_text, self.missing_clinical = nn.Parameter(torch.zeros(64)), nn.Parameter(torch.zeros(64))
        self.head = nn.Sequential(nn.LayerNorm(256), nn.Linear(256, 64), nn.GELU(), nn.Dropout(0.2))
        self.classifier = nn.Linear(64, 1)
        self.p_drop = 0.15

    def missing(self, x, present, token):
        keep = present & (torch.rand(x.shape[0]) >= self.p_drop) if self.training else present
        return torch.where(keep[:, None], x, token.expand_as(x))

    def forward(self, tumour, context, ids, mask, clinical, has_text, has_clin):
        f = self.cn_features(tumour)
        e_cn = self.cn_norm(f.mean((2, 3), keepdim=True)).flatten(1)
        e_vit = self.vit(tumour, context)[0]
        e_txt = self.text(ids, mask)
        e_cl = F.gelu(self.clin["fc2"](self.clin_drop(F.gelu(self.clin["fc1"](clinical)))))
        parts = [self.proj["convnext"](e_cn), self.proj["vit"](e_vit),
                 self.missing(self.proj["text"](e_txt), has_text, self.missing_text),
                 self.missing(self.proj["clinical"](e_cl), has_clin, self.missing_clinical)]
        return self.classifier(self.head(torch.cat(parts, 1))).squeeze(-1)


def best_of(iters, step):
    step()
    best = 1e30
    for _ in range(iters):
        t = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-convnext", type=int, default=8)
    ap.add_argument("--batch-msm", type=int, default=32)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--text-len", type=int, default=64)
    ap.add_argument("--text", choices=["bert", "bag"], default="bert")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    m = torchvision.models.convnext_tiny(weights=None).train()
    x = torch.randn(a.batch_convnext, 3, 224, 224)
    y = torch.randint(0, 1000, (a.batch_convnext,))

    def step_cn():
        m.zero_grad()
        F.cross_entropy(m(x), y).backward()

    s = best_of(a.iters, step_cn)
    print(json.dumps({"impl": "python", "what": "convnext_tiny", "batch": a.batch_convnext, "seconds": round(s, 4),
                      "per_s": round(a.batch_convnext / s, 3), "torch": torch.__version__}))

    B = a.batch_msm
    msm = MsmTC(2000, 16, a.text).train()
    t, c = torch.randn(B, 3, 64, 64), torch.randn(B, 3, 96, 96)
    ids, mask = torch.randint(1, 2000, (B, a.text_len)), torch.ones(B, a.text_len, dtype=torch.long)
    clin, ht, hc = torch.randn(B, 16), torch.ones(B, dtype=torch.bool), torch.ones(B, dtype=torch.bool)
    yb = torch.randint(0, 2, (B,)).float()

    def step_msm():
        msm.zero_grad()
        F.binary_cross_entropy_with_logits(msm(t, c, ids, mask, clin, ht, hc), yb).backward()

    s = best_of(a.iters, step_msm)
    print(json.dumps({"impl": "python", "what": "msm_tc_cpu_small", "batch": B, "seconds": round(s, 4),
                      "per_s": round(B / s, 3), "params": sum(p.numel() for p in msm.parameters()),
                      "text": a.text}))


if __name__ == "__main__":
    main()
