#!/usr/bin/python3
"""Writes tests/data/models/* (run from the repository root: /usr/bin/python3 scripts/make_models_fixtures.py).

convnext_tv.safetensors     a small torchvision ConvNeXt (custom block_setting), random weights, torchvision keys
convnext_timm.safetensors   the same weights renamed to timm's layout (no timm installed: renamed here)
convnext_io.safetensors     input and torchvision's outputs (features, embedding, logits)
crossvit.safetensors        the paper-written dual-path CrossViT reference, random weights, timm keys
crossvit_io.safetensors     inputs, outputs, every attention map; block-level input/output of blocks.0
pos_embed.safetensors       bicubic position-embedding interpolation (torch.nn.functional.interpolate)
manifest_*.json             key -> shape of full-size architectures (convnext_tiny in torchvision and
                            timm layouts, convnext_atto in timm's conv_mlp layout, crossvit_tiny_240 in
                            timm layout), for zero-missing-key checks
"""
import json
import os
import sys

import torch
import torchvision
from torchvision.models.convnext import CNBlockConfig, ConvNeXt

sys.path.insert(0, os.path.dirname(__file__))
import models_reference as ref  # noqa: E402

OUT = "tests/data/models"
os.makedirs(OUT, exist_ok=True)
torch.set_num_threads(1)
gen = torch.Generator().manual_seed(20221)
prov = {"tool": "python3 torch %s torchvision %s" % (torch.__version__, torchvision.__version__),
        "command": "/usr/bin/python3 scripts/make_models_fixtures.py"}

# ---- ConvNeXt parity ---------------------------------------------------------------------------
setting = [CNBlockConfig(8, 16, 1), CNBlockConfig(16, 32, 1), CNBlockConfig(32, 48, 2), CNBlockConfig(48, None, 1)]
tv = ConvNeXt(setting, layer_scale=0.5, num_classes=5).eval()
ref.randomise(tv, gen, std=0.2)
x = torch.randn(2, 3, 64, 64, generator=gen)
with torch.no_grad():
    feats = tv.features(x)
    emb = tv.classifier[1](tv.classifier[0](tv.avgpool(feats)))
    logits = tv(x)
sd = tv.state_dict()
ref.save_safetensors(os.path.join(OUT, "convnext_tv.safetensors"), sd, prov)
ref.save_safetensors(os.path.join(OUT, "convnext_timm.safetensors"),
                     {ref.torchvision_to_timm(k): ref.timm_value(ref.torchvision_to_timm(k), v) for k, v in sd.items()},
                     prov)
ref.save_safetensors(os.path.join(OUT, "convnext_io.safetensors"),
                     {"input": x, "features": feats, "embedding": emb, "logits": logits},
                     dict(prov, config="dims 8,16,32,48 depths 1,1,2,1 layer_scale 0.5 num_classes 5"))

# ---- CrossViT parity ---------------------------------------------------------------------------
cfg = dict(img=(16, 24), patch=(4, 8), dims=(16, 24), heads=(2, 3), mlp_ratio=(2.0, 2.0),
           depth=[(1, 2, 0), (1, 1, 0)], num_classes=0)
cv = ref.DualPathCrossViT(**cfg).eval()
ref.randomise(cv, gen, std=0.2)
a = torch.randn(2, 3, 16, 16, generator=gen)
c = torch.randn(2, 3, 24, 24, generator=gen)
io = {"tumour": a, "context": c}
with torch.no_grad():
    emb, toks, att_a, att_b, cross = cv(a, c)
    io.update({"embedding": emb, "tokens_0": toks[0], "tokens_1": toks[1]})
    for i, t in enumerate(att_a):
        io["attention_a.%d" % i] = t
    for i, t in enumerate(att_b):
        io["attention_b.%d" % i] = t
    for i, t in enumerate(cross):
        io["cross_attention.%d" % i] = t
    b0 = torch.randn(2, 17, 16, generator=gen)
    b1 = torch.randn(2, 10, 24, generator=gen)
    out, _, _ = cv.blocks[0]([b0, b1])
    io.update({"block.in_0": b0, "block.in_1": b1, "block.out_0": out[0], "block.out_1": out[1]})
ref.save_safetensors(os.path.join(OUT, "crossvit.safetensors"), cv.state_dict(), prov)
ref.save_safetensors(os.path.join(OUT, "crossvit_io.safetensors"), io, dict(prov, config=json.dumps(cfg)))

# ---- position-embedding interpolation ----------------------------------------------------------
pos = torch.randn(1, 1 + 16, 8, generator=gen)
grid = pos[:, 1:].reshape(1, 4, 4, 8).permute(0, 3, 1, 2)
grid = torch.nn.functional.interpolate(grid, size=(6, 6), mode="bicubic", align_corners=False)
pos36 = torch.cat([pos[:, :1], grid.permute(0, 2, 3, 1).reshape(1, 36, 8)], 1)
ref.save_safetensors(os.path.join(OUT, "pos_embed.safetensors"), {"pos_16": pos, "pos_36": pos36}, prov)

# ---- full-size key manifests -------------------------------------------------------------------
tiny = torchvision.models.convnext_tiny(weights=None)
mtv = {k: list(v.shape) for k, v in tiny.state_dict().items()}
mtimm = {ref.torchvision_to_timm(k): list(ref.timm_value(ref.torchvision_to_timm(k), v).shape)
         for k, v in tiny.state_dict().items()}
# timm's convnext_atto (conv_mlp=True): the block MLP is 1x1 convolutions, [O, I, 1, 1]
atto = ConvNeXt([CNBlockConfig(40, 80, 2), CNBlockConfig(80, 160, 2), CNBlockConfig(160, 320, 6),
                 CNBlockConfig(320, None, 2)], num_classes=1000)
matto = {}
for k, v in atto.state_dict().items():
    n = ref.torchvision_to_timm(k)
    shape = list(ref.timm_value(n, v).shape)
    if ".mlp.fc" in n and n.endswith("weight"):
        shape += [1, 1]
    matto[n] = shape
cvt = ref.DualPathCrossViT(img=(240, 224), patch=(12, 16), dims=(96, 192), heads=(3, 3), mlp_ratio=(4.0, 4.0),
                           depth=[(1, 4, 0)] * 3, num_classes=1000)
mcv = {k: list(v.shape) for k, v in cvt.state_dict().items()}
for name, m in (("convnext_atto_timm", matto), ("convnext_tiny_torchvision", mtv), ("convnext_tiny_timm", mtimm), ("crossvit_tiny_240_timm", mcv)):
    with open(os.path.join(OUT, "manifest_%s.json" % name), "w") as f:
        json.dump({"provenance": prov, "tensors": m}, f, indent=0, sort_keys=True)
print("wrote", sorted(os.listdir(OUT)))
