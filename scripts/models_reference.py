"""Independent PyTorch references for the model tests (run by /usr/bin/python3; not by the build).

- A safetensors writer (the format: u64 little-endian header length, JSON header, raw bytes).
- CrossViT written from the paper (Chen, Fan & Panda 2021, doi:10.1109/ICCV48922.2021.00041,
  sec. 3.2-3.4, eq. 4-7), with attribute names laid out as timm's CrossVit so that state_dict()
  keys are timm's checkpoint keys. Dual path: branch 0 reads the tumour crop, branch 1 the
  context crop (the paper feeds one image at two scales).
- The torchvision -> timm ConvNeXt key map, written from the two libraries' module layouts.
"""
import json
import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

_DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32",
           torch.bool: "BOOL", torch.uint8: "U8"}


def save_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        b = t.numpy().tobytes()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---- ConvNeXt: torchvision layout -> timm layout -------------------------------------------
def torchvision_to_timm(key):
    p = key.split(".")
    if p[0] == "classifier":
        return {"0": "head.norm.", "2": "head.fc."}[p[1]] + p[2]
    assert p[0] == "features"
    n = int(p[1])
    if n == 0:
        return "stem.%s.%s" % (p[2], p[3])
    if n % 2 == 0:  # downsampling layer between stages
        return "stages.%d.downsample.%s.%s" % (n // 2, p[2], p[3])
    pre = "stages.%d.blocks.%s." % ((n - 1) // 2, p[2])
    if p[3] == "layer_scale":
        return pre + "gamma"
    part = {"0": "conv_dw", "2": "norm", "3": "mlp.fc1", "5": "mlp.fc2"}[p[4]]
    return pre + part + "." + p[5]


def timm_value(key, value):
    # torchvision keeps layer scale as [C, 1, 1], timm as [C]
    return value.reshape(-1) if key.endswith("gamma") else value


# ---- CrossViT from the paper ----------------------------------------------------------------
class Attention(nn.Module):
    """Multi-head self-attention; returns the output and the probabilities."""

    def __init__(self, dim, heads, qkv_bias=True):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        d = C // self.heads
        q, k, v = self.qkv(x).split(C, dim=-1)
        q, k, v = (t.view(B, N, self.heads, d).transpose(1, 2) for t in (q, k, v))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(B, N, C)), a


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer encoder layer (paper eq. 1-3)."""

    def __init__(self, dim, heads, mlp_ratio, eps):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=eps), nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, heads)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        y, a = self.attn(self.norm1(x))
        x = x + y
        return x + self.mlp(self.norm2(x)), a


class CrossAttention(nn.Module):
    """Eq. 4-5: the CLS token is the only query; keys/values are [CLS; patch tokens]."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.wq, self.wk, self.wv = (nn.Linear(dim, dim) for _ in range(3))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        d = C // self.heads
        q = self.wq(x[:, :1]).view(B, 1, self.heads, d).transpose(1, 2)
        k = self.wk(x).view(B, N, self.heads, d).transpose(1, 2)
        v = self.wv(x).view(B, N, self.heads, d).transpose(1, 2)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(B, 1, C)), a


class CrossAttentionBlock(nn.Module):
    """Eq. 6 (without the MLP, as the paper's released models): y_cls = x_cls + CA(LN(x'))."""

    def __init__(self, dim, heads, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = CrossAttention(dim, heads)

    def forward(self, x):
        y, a = self.attn(self.norm1(x))
        return x[:, :1] + y, a


def _proj(din, dout, eps):
    # f^l / g^l of eq. 4 and 7: LayerNorm -> GELU -> Linear
    return nn.Sequential(nn.LayerNorm(din, eps=eps), nn.GELU(), nn.Linear(din, dout))


class MultiScaleBlock(nn.Module):
    def __init__(self, dims, heads, mlp_ratio, depth, eps):
        super().__init__()
        self.blocks = nn.ModuleList(
            [nn.Sequential(*[Block(dims[b], heads[b], mlp_ratio[b], eps) for _ in range(depth[b])]) for b in range(2)])
        self.projs = nn.ModuleList([_proj(dims[b], dims[1 - b], eps) for b in range(2)])
        self.fusion = nn.ModuleList([CrossAttentionBlock(dims[1 - b], heads[1 - b], eps) for b in range(2)])
        self.revert_projs = nn.ModuleList([_proj(dims[1 - b], dims[b], eps) for b in range(2)])

    def forward(self, xs):
        ys, self_att, cross_att = [], [[], []], []
        for b in range(2):
            x = xs[b]
            for blk in self.blocks[b]:
                x, a = blk(x)
                self_att[b].append(a)
            ys.append(x)
        out = []
        for b in range(2):
            o = 1 - b
            cls = self.projs[b](ys[b][:, :1])                   # f^l: to the other branch's width
            z, a = self.fusion[b](torch.cat([cls, ys[o][:, 1:]], 1))  # CLS attends to the other branch
            cross_att.append(a)
            out.append(torch.cat([self.revert_projs[b](z), ys[b][:, 1:]], 1))  # g^l: back, re-attach
        return out, self_att, cross_att


class PatchEmbed(nn.Module):
    def __init__(self, cin, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class DualPathCrossViT(nn.Module):
    def __init__(self, img, patch, dims, heads, mlp_ratio, depth, cin=3, num_classes=0, eps=1e-6):
        super().__init__()
        self.patch_embed = nn.ModuleList([PatchEmbed(cin, dims[b], patch[b]) for b in range(2)])
        for b in range(2):
            n = (img[b] // patch[b]) ** 2
            setattr(self, "cls_token_%d" % b, nn.Parameter(torch.zeros(1, 1, dims[b])))
            setattr(self, "pos_embed_%d" % b, nn.Parameter(torch.zeros(1, 1 + n, dims[b])))
        self.blocks = nn.ModuleList([MultiScaleBlock(dims, heads, mlp_ratio, d, eps) for d in depth])
        self.norm = nn.ModuleList([nn.LayerNorm(dims[b], eps=eps) for b in range(2)])
        self.head = nn.ModuleList([nn.Linear(dims[b], num_classes) for b in range(2)]) if num_classes else None

    def forward(self, a, c):
        xs = []
        for b, img in enumerate((a, c)):
            t = self.patch_embed[b](img)
            cls = getattr(self, "cls_token_%d" % b).expand(t.shape[0], -1, -1)
            xs.append(torch.cat([cls, t], 1) + getattr(self, "pos_embed_%d" % b))
        att_a, att_b, cross = [], [], []
        for blk in self.blocks:
            xs, sa, ca = blk(xs)
            att_a += sa[0]
            att_b += sa[1]
            cross += ca
        xs = [self.norm[b](xs[b]) for b in range(2)]
        emb = torch.cat([xs[0][:, 0], xs[1][:, 0]], 1)
        return emb, xs, att_a, att_b, cross


def randomise(module, gen, std=0.2):
    """Random weights everywhere (LayerNorm gains around 1) so every term of the forward matters."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() == 1 and name.endswith("weight"):  # LayerNorm gains (conv/linear weights are >= 2-D)
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(std * torch.randn(p.shape, generator=gen))
