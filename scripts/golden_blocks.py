#!/usr/bin/env python3
"""Writes Tests/NTrainNNTests/Fixtures/blocks_golden.json: PyTorch values for

- a whole CIFAR ResNet-20 (He et al.; width 4 so the fixture stays small) in training mode:
  logits, cross-entropy loss with label smoothing, every parameter gradient and the batch-norm
  running statistics after the step;
- torch.optim.SGD with two parameter groups (their own lr and weight_decay, Nesterov momentum);
- OneCycleLR's learning rate at every step (cycle_momentum=False), cos and linear, two and three phases,
  and with cycle_momentum (PyTorch's default) SGD's momentum and Adam's beta1 at every step.

Weights and inputs come from a formula both sides compute (`value(i, j)` below, in double, then
rounded to float32), so only PyTorch's results are stored. Parameter names are ntrain's
(`layer2.0.shortcut.conv.weight` is torchvision's `layer2.0.downsample.0.weight`).

Run: .venv-torch/bin/python scripts/golden_blocks.py   (PyTorch CPU; see README)
"""
import json, math, os
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)


def value(i, j, scale):
    """Element i of tensor j: deterministic, varied, zero-mean."""
    return scale * math.sin(1.3 * i + 0.7 * j + 0.1)


def filled(shape, j, scale):
    n = math.prod(shape)
    return torch.tensor([value(i, j, scale) for i in range(n)], dtype=torch.float32).reshape(shape)


def t(x):
    return [float("%.8g" % v) for v in x.detach().reshape(-1).tolist()]


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet20(nn.Module):
    def __init__(self, width, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        stages, cin = [], width
        for i, (w, stride) in enumerate([(width, 1), (2 * width, 2), (4 * width, 2)]):
            blocks = [Block(cin if b == 0 else w, w, stride if b == 0 else 1) for b in range(3)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            cin = w
        self.fc = nn.Linear(4 * width, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def ntrain_name(name):
    return name.replace(".downsample.0.", ".shortcut.conv.").replace(".downsample.1.", ".shortcut.bn.") \
        .replace(".conv1.", ".body.conv1.").replace(".bn1.", ".body.bn1.").replace(".conv2.", ".body.conv2.") \
        .replace(".bn2.", ".body.bn2.") if name.startswith("layer") else name


out = {"torch_version": torch.__version__}

net = ResNet20(4, 10)
params = list(net.named_parameters())
with torch.no_grad():
    for j, (name, p) in enumerate(params):
        if p.dim() == 1 and name.endswith("weight"):  # batch-norm scales
            p.copy_(1 + filled(p.shape, j, 0.2))
        elif p.dim() == 1:
            p.copy_(filled(p.shape, j, 0.1))
        else:
            fan_in = math.prod(p.shape[1:])
            p.copy_(filled(p.shape, j, math.sqrt(3.0 / fan_in)))
x = filled((4, 3, 16, 16), 1000, 1.5)
y = torch.tensor([3, 7, 0, 9])
net.train()
logits = net(x)
loss = F.cross_entropy(logits, y, label_smoothing=0.1)
loss.backward()
out["resnet20"] = {
    "width": 4, "input_shape": list(x.shape), "input_seed": 1000, "targets": y.tolist(), "label_smoothing": 0.1,
    "parameters": [{"name": ntrain_name(n), "shape": list(p.shape), "seed": j,
                    "kind": "scale" if p.dim() == 1 and n.endswith("weight") else "bias" if p.dim() == 1 else "weight"} for j, (n, p) in enumerate(params)],
    "logits": t(logits), "loss": float(loss),
    "grads": {ntrain_name(n): t(p.grad) for n, p in params},
    "running_mean": {ntrain_name(n): t(b) for n, b in net.named_buffers() if n.endswith("running_mean")},
    "running_var": {ntrain_name(n): t(b) for n, b in net.named_buffers() if n.endswith("running_var")},
}

# SGD with parameter groups: group 0 (params 0, 1) at 4x the lr without weight decay, group 1
# (param 2) at the base lr with weight decay 0.1; Nesterov momentum 0.9; 4 steps of given grads.
shapes = [[3, 2], [5], [4]]
ps = [filled(s, 2000 + j, 1.0).requires_grad_() for j, s in enumerate(shapes)]
opt = torch.optim.SGD([{"params": ps[:2], "lr": 0.2, "weight_decay": 0.0}, {"params": ps[2:], "lr": 0.05, "weight_decay": 0.1}],
                      momentum=0.9, nesterov=True)
steps = []
for step in range(4):
    for j, p in enumerate(ps):
        p.grad = filled(p.shape, 3000 + 10 * step + j, 0.5)
    opt.step()
    steps.append([t(p) for p in ps])
out["sgd_groups"] = {"shapes": shapes, "init_seed": 2000, "grad_seed": 3000, "base_lr": 0.05, "lr_scale": [4.0, 1.0],
                     "weight_decay": [0.0, 0.1], "momentum": 0.9, "params": steps}

one_cycle = []
for total, pct, div, final, anneal, three in [(20, 0.3, 25.0, 1e4, "cos", False), (17, 0.25, 10.0, 100.0, "linear", False),
                                              (30, 0.3, 25.0, 1e4, "cos", True), (50, 0.2, 5.0, 1e3, "linear", True)]:
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=total, pct_start=pct, div_factor=div,
                                                final_div_factor=final, anneal_strategy=anneal, three_phase=three,
                                                cycle_momentum=False)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(total - 1):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    one_cycle.append({"total_steps": total, "pct_start": pct, "div_factor": div, "final_div_factor": final,
                      "anneal_strategy": anneal, "three_phase": three, "max_lr": 0.5, "lrs": lrs})
out["one_cycle"] = one_cycle

cycled = []
for opt_name, total, pct, anneal, three, base_m, max_m in [("sgd", 20, 0.3, "cos", False, 0.85, 0.95), ("adam", 30, 0.25, "linear", True, 0.8, 0.9)]:
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.5, momentum=0.5) if opt_name == "sgd" else torch.optim.Adam([p], lr=0.5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=total, pct_start=pct, anneal_strategy=anneal,
                                                three_phase=three, base_momentum=base_m, max_momentum=max_m)
    key = (lambda g: g["momentum"]) if opt_name == "sgd" else (lambda g: g["betas"][0])
    moms, lrs = [key(opt.param_groups[0])], [opt.param_groups[0]["lr"]]
    for _ in range(total - 1):
        opt.step()
        sched.step()
        moms.append(key(opt.param_groups[0]))
        lrs.append(opt.param_groups[0]["lr"])
    cycled.append({"optimizer": opt_name, "total_steps": total, "pct_start": pct, "anneal_strategy": anneal, "three_phase": three,
                   "base_momentum": base_m, "max_momentum": max_m, "max_lr": 0.5, "lrs": lrs, "momenta": moms})
out["one_cycle_momentum"] = cycled

path = os.path.join(os.path.dirname(__file__), "..", "Tests", "NTrainNNTests", "Fixtures", "blocks_golden.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", os.path.normpath(path))
