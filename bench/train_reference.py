#!/usr/bin/python3
"""The training loop of bench/train_bench.cpp in Python PyTorch: same net, data, batch, loss
(class-weighted BCE), AdamW with two groups and decay exemptions, warm-up + cosine, clipping, a
DataLoader with one worker. Prints one JSON line.  Usage: train_reference.py [STEPS] [BATCH] [THREADS]"""
import json
import math
import sys
import time

import torch
from torch import nn

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 60
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 32
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
torch.set_num_threads(threads)
torch.manual_seed(0)
images = torch.randn(256, 3, 64, 64)
labels = (torch.rand(256) > 0.7).float()


class Crops(torch.utils.data.Dataset):
    def __len__(self):
        return 256

    def __getitem__(self, i):
        x = images[i]
        if torch.randint(0, 2, ()).item():
            x = x.flip(2)
        return x.contiguous(), labels[i]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),
                                      nn.Conv2d(32, 64, 3, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                                      nn.Conv2d(64, 128, 3, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1))
        self.head = nn.Sequential(nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 1))

    def forward(self, x):
        return self.head(self.backbone(x).flatten(1)).squeeze(1)


torch.manual_seed(1)
net = Net()
groups = {k: [] for k in ("bd", "bn", "hd", "hn")}
for name, p in net.named_parameters():
    g = ("b" if name.startswith("backbone.") else "h") + ("n" if p.dim() <= 1 or name.endswith("bias") else "d")
    groups[g].append(p)
opt = torch.optim.AdamW([{"params": groups["bd"], "lr": 3e-4, "weight_decay": 0.05},
                         {"params": groups["bn"], "lr": 3e-4, "weight_decay": 0.0},
                         {"params": groups["hd"], "lr": 1e-3, "weight_decay": 0.05},
                         {"params": groups["hn"], "lr": 1e-3, "weight_decay": 0.0}])
base = [g["lr"] for g in opt.param_groups]
per_epoch = 256 // batch
warmup, total = per_epoch, 1000 * per_epoch
loader = torch.utils.data.DataLoader(Crops(), batch_size=batch, shuffle=True, num_workers=1, drop_last=True,
                                     persistent_workers=True)
step = 0


def run(n):
    global step
    done = 0
    while done < n:
        for x, y in loader:
            f = (step + 1) / warmup if step < warmup else 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))
            for g, b in zip(opt.param_groups, base):
                g["lr"] = b * f
            net.train()
            opt.zero_grad()
            out = net(x)
            w = torch.where(y > 0.5, torch.tensor(1.0), torch.tensor(1.0))
            loss = nn.functional.binary_cross_entropy_with_logits(out, y, weight=w)
            if not math.isfinite(loss.item()):
                raise RuntimeError("loss")
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            step += 1
            done += 1
            if done >= n:
                break


run(5)
t0 = time.perf_counter()
run(steps)
s = time.perf_counter() - t0
print(json.dumps({"impl": "python", "steps": steps, "batch": batch, "threads": threads, "seconds": round(s, 4),
                  "steps_per_s": round(steps / s, 3), "torch": torch.__version__}))
