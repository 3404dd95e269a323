#!/usr/bin/python3
"""Golden values for src/train/losses (tests/test_train_losses.cpp).

Weighted BCE: torch.nn.functional.binary_cross_entropy_with_logits with per-sample weights.
Focal loss:   torchvision.ops.sigmoid_focal_loss (Lin et al. 2017, doi:10.1109/ICCV.2017.324).
Cox:          negative log partial likelihood with Breslow ties, mean over events, written out
              as the textbook double sum in float64; cross-checked against R survival::coxph
              (ties="breslow", log-likelihood at beta = 1 with the risk score as the covariate).
Gradients: torch autograd of the same expressions (float64).

Run: /usr/bin/python3 scripts/train_loss_goldens.py > tests/data/train/loss_goldens.json
"""
import json
import subprocess

import torch
import torchvision
from torchvision.ops import sigmoid_focal_loss

torch.manual_seed(20261129)
out = {"provenance": {
    "command": "/usr/bin/python3 scripts/train_loss_goldens.py > tests/data/train/loss_goldens.json",
    "torch": torch.__version__, "torchvision": torchvision.__version__}}

# --- weighted BCE ---------------------------------------------------------------------------
logits = torch.tensor([-2.5, -0.3, 0.0, 0.8, 3.1, -7.0, 12.0], dtype=torch.float64)
y = torch.tensor([0, 1, 0, 1, 1, 1, 0], dtype=torch.float64)
w_neg, w_pos = 0.7, 2.3
x = logits.clone().requires_grad_(True)
w = torch.where(y > 0.5, torch.tensor(w_pos, dtype=torch.float64), torch.tensor(w_neg, dtype=torch.float64))
loss = torch.nn.functional.binary_cross_entropy_with_logits(x, y, weight=w)
loss.backward()
out["bce"] = {"logits": logits.tolist(), "targets": y.tolist(), "w_neg": w_neg, "w_pos": w_pos,
              "loss": loss.item(), "grad": x.grad.tolist()}

# --- focal ----------------------------------------------------------------------------------
focal = []
for alpha, gamma in [(0.25, 2.0), (-1.0, 0.5), (0.6, 0.0)]:
    x = logits.clone().requires_grad_(True)
    loss = sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma, reduction="mean")
    loss.backward()
    focal.append({"alpha": alpha, "gamma": gamma, "loss": loss.item(), "grad": x.grad.tolist()})
out["focal"] = {"logits": logits.tolist(), "targets": y.tolist(), "cases": focal}

# --- Cox, Breslow ties ----------------------------------------------------------------------
risk = torch.tensor([0.3, -1.2, 0.8, 0.0, 1.5, -0.4, 0.9, -2.0, 0.25, 0.6], dtype=torch.float64)
time = torch.tensor([5.0, 3.0, 5.0, 8.0, 2.0, 5.0, 3.0, 10.0, 8.0, 1.0], dtype=torch.float64)
event = torch.tensor([1, 1, 0, 1, 1, 1, 0, 0, 1, 0], dtype=torch.float64)


def cox(r):
    total = torch.zeros((), dtype=torch.float64)
    n_events = 0
    for i in range(len(r)):
        if event[i] < 0.5:
            continue
        at_risk = time >= time[i]  # Breslow: every subject with T_j >= T_i, ties included
        total = total + r[i] - torch.logsumexp(r[at_risk], dim=0)
        n_events += 1
    return -total / n_events


x = risk.clone().requires_grad_(True)
loss = cox(x)
loss.backward()
n_events = int(event.sum().item())
r_code = ("library(survival);"
          f"t<-c({','.join(str(v) for v in time.tolist())});"
          f"e<-c({','.join(str(int(v)) for v in event.tolist())});"
          f"x<-c({','.join(repr(v) for v in risk.tolist())});"
          "f<-coxph(Surv(t,e)~x,ties='breslow',init=1,control=coxph.control(iter.max=0));"
          "cat(sprintf('%.17g',f$loglik[1]))")
try:
    r_loglik = float(subprocess.run(["Rscript", "-e", r_code], capture_output=True, text=True,
                                    check=True).stdout)
    r_loss = -r_loglik / n_events
    assert abs(r_loss - loss.item()) < 1e-12, (r_loss, loss.item())
    r_version = subprocess.run(["Rscript", "-e", "cat(as.character(packageVersion('survival')))"],
                               capture_output=True, text=True, check=True).stdout
    out["provenance"]["R_survival"] = r_version
except FileNotFoundError:
    r_loss = None
out["cox"] = {"risk": risk.tolist(), "time": time.tolist(), "event": event.tolist(),
              "loss": loss.item(), "grad": x.grad.tolist(), "loss_R_survival": r_loss}

print(json.dumps(out, indent=1))
