#!/usr/bin/python3
"""Writes tests/data/pretrained/* -- checkpoints in the layouts users download, with random weights,
for the pretrained-initialisation tests (run from the repository root:
/usr/bin/python3 scripts/make_pretrained_fixtures.py).

convnext_tv.pth          torch.save(state_dict) of a small torchvision ConvNeXt (dims 8/16/32/48, depths
                         1/1/2/1, layer_scale 0.5, 5 classes): torchvision's .pth layout
convnext_io.safetensors  input_1ch [2, 1, 64, 64]; torchvision's pre-logit embedding of that input
                         replicated to RGB (what summed RGB stem filters must reproduce on 1 plane)
crossvit_timm.safetensors  the dual-path CrossViT reference (img 16/24, patches 4/8, dims 16/24) in
                         timm's layout (pos_embed_0 / pos_embed_1, patch_embed.N.proj)
crossvit_io.safetensors  tumour [2, 1, 32, 32], context [2, 1, 48, 48]; the reference's embedding at
                         32/48 px with its position embeddings resized as timm's resample_abs_pos_embed
                         does (bicubic, align_corners=False) on the inputs replicated to RGB; the
                         resized pos_embed_0 / pos_embed_1
chinese_bert/            an HF BERT folder (config.json, vocab.txt, model.safetensors) of a non-default
                         shape: 4 layers x 32 hidden, 4 heads, 21128-token Chinese vocabulary (the size
                         of bert-base-chinese's: special tokens, [unusedN], CJK U+4E00-U+9FA5, ASCII),
                         BertForMaskedLM keys (bert.*, cls.*)
chinese_bert_io.safetensors  ids / mask and the reference BERT's pooled output (float64 from the
                         float32 weights)
"""
import json
import os
import sys

import torch
import torchvision
from torchvision.models.convnext import CNBlockConfig, ConvNeXt

sys.path.insert(0, os.path.dirname(__file__))
import models_reference as ref  # noqa: E402
import make_text_bert_reference as bert_ref  # noqa: E402

OUT = "tests/data/pretrained"
os.makedirs(OUT, exist_ok=True)
torch.set_num_threads(1)
gen = torch.Generator().manual_seed(15015)
prov = {"tool": "python3 torch %s torchvision %s" % (torch.__version__, torchvision.__version__),
        "command": "/usr/bin/python3 scripts/make_pretrained_fixtures.py"}

# ---- torchvision ConvNeXt, .pth -----------------------------------------------------------------
setting = [CNBlockConfig(8, 16, 1), CNBlockConfig(16, 32, 1), CNBlockConfig(32, 48, 2), CNBlockConfig(48, None, 1)]
tv = ConvNeXt(setting, layer_scale=0.5, num_classes=5).eval()
ref.randomise(tv, gen, std=0.2)
torch.save(tv.state_dict(), os.path.join(OUT, "convnext_tv.pth"))
x1 = torch.randn(2, 1, 64, 64, generator=gen)
with torch.no_grad():
    emb = tv.classifier[1](tv.classifier[0](tv.avgpool(tv.features(x1.repeat(1, 3, 1, 1)))))
ref.save_safetensors(os.path.join(OUT, "convnext_io.safetensors"), {"input_1ch": x1, "embedding": emb},
                     dict(prov, config="dims 8,16,32,48 depths 1,1,2,1 layer_scale 0.5"))

# ---- CrossViT, timm layout, resized ---------------------------------------------------------------
cfg = dict(patch=(4, 8), dims=(16, 24), heads=(2, 3), mlp_ratio=(2.0, 2.0), depth=[(1, 2, 0), (1, 1, 0)])
cv = ref.DualPathCrossViT(img=(16, 24), **cfg).eval()
ref.randomise(cv, gen, std=0.2)
sd = cv.state_dict()
ref.save_safetensors(os.path.join(OUT, "crossvit_timm.safetensors"), sd, prov)


def resample_abs_pos_embed(pos, new_grid):
    # timm.layers.pos_embed.resample_abs_pos_embed with num_prefix_tokens = 1
    n = pos.shape[1] - 1
    g = int(round(n ** 0.5))
    grid = pos[:, 1:].reshape(1, g, g, -1).permute(0, 3, 1, 2)
    grid = torch.nn.functional.interpolate(grid, size=(new_grid, new_grid), mode="bicubic", align_corners=False)
    return torch.cat([pos[:, :1], grid.permute(0, 2, 3, 1).reshape(1, new_grid * new_grid, -1)], 1)


big = ref.DualPathCrossViT(img=(32, 48), **cfg).eval()
sd2 = dict(sd)
sd2["pos_embed_0"] = resample_abs_pos_embed(sd["pos_embed_0"], 32 // 4)
sd2["pos_embed_1"] = resample_abs_pos_embed(sd["pos_embed_1"], 48 // 8)
big.load_state_dict(sd2)
a = torch.randn(2, 1, 32, 32, generator=gen)
c = torch.randn(2, 1, 48, 48, generator=gen)
with torch.no_grad():
    emb_cv = big(a.repeat(1, 3, 1, 1), c.repeat(1, 3, 1, 1))[0]
ref.save_safetensors(os.path.join(OUT, "crossvit_io.safetensors"),
                     {"tumour": a, "context": c, "embedding": emb_cv, "pos_embed_0": sd2["pos_embed_0"],
                      "pos_embed_1": sd2["pos_embed_1"]}, dict(prov, config=json.dumps(cfg)))

# ---- HF BERT, Chinese vocabulary ----------------------------------------------------------------
vocab = ["[PAD]"] + ["[unused%d]" % i for i in range(1, 100)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
vocab += [chr(i) for i in range(0x21, 0x7F)]                       # ASCII punctuation, digits, letters
vocab += [chr(i) for i in range(0x4E00, 0x9FA6)]                   # CJK unified ideographs
vocab += ["，", "。", "、", "：", "；", "（", "）", "％", "×", "～", "—", "“", "”", "《", "》", "？", "！"]
seen = set()
vocab = [t for t in vocab if not (t in seen or seen.add(t))]
k = 0
while len(vocab) < 21128:
    vocab.append("##%d" % k)
    k += 1
assert len(vocab) == 21128
bdir = os.path.join(OUT, "chinese_bert")
os.makedirs(bdir, exist_ok=True)
with open(os.path.join(bdir, "vocab.txt"), "w", encoding="utf-8") as f:
    f.write("\n".join(vocab) + "\n")
CFG = dict(bert_ref.CFG, vocab_size=21128, hidden_size=32, num_hidden_layers=4, num_attention_heads=4,
           intermediate_size=64, max_position_embeddings=512)
torch.manual_seed(15015)
m = bert_ref.BertForMaskedLM(CFG)
with torch.no_grad():
    for name, p in m.named_parameters():
        if "LayerNorm.weight" in name:
            p.copy_(1.0 + 0.2 * torch.randn_like(p))
        elif name.endswith("bias"):
            p.copy_(0.2 * torch.randn_like(p))
        else:
            p.copy_(0.35 * torch.randn_like(p))
    m.bert.embeddings.word_embeddings.weight[0].zero_()
# save_pretrained writes safetensors without the tied decoder weight (it is the word embeddings)
state = {k: v for k, v in m.state_dict().items()
         if not k.endswith("position_ids") and k != "cls.predictions.decoder.weight"}
bert_ref.write_safetensors(os.path.join(bdir, "model.safetensors"), state, {"format": "pt"})
with open(os.path.join(bdir, "config.json"), "w") as f:
    json.dump(CFG, f, indent=2)
g = torch.Generator().manual_seed(3)
ids = torch.randint(104, 21128, (2, 10), generator=g)
ids[:, 0] = 101
mask = torch.ones(2, 10, dtype=torch.int64)
mask[1, 6:] = 0
ids[mask == 0] = 0
m64 = m.double().eval()
with torch.no_grad():
    _, pooled, _, _ = m64(ids, mask, torch.zeros_like(ids))
bert_ref.write_safetensors(os.path.join(OUT, "chinese_bert_io.safetensors"),
                           {"ids": ids, "mask": mask, "pooled": pooled}, {"format": "pt"})
print("wrote", sorted(os.listdir(OUT)))
