#!/usr/bin/env python3
"""Writes Tests/NTrainNNTests/Fixtures/nn_golden.json: PyTorch values for every loss (value and
input gradient) and for a small conv+bn+pool+linear network (output, loss, parameter gradients).

Run: .venv-torch/bin/python scripts/golden_nn.py   (PyTorch CPU; see README)
"""
import json, os
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
out = {}

def t(x):
    return [round(float(v), 9) for v in x.detach().reshape(-1).tolist()]

# Losses: value and gradient with respect to the prediction.
N, C = 5, 7
logits = torch.randn(N, C, requires_grad=True)
targets = torch.randint(0, C, (N,))
losses = {}
for name, eps in [("cross_entropy", 0.0), ("cross_entropy_smooth", 0.1)]:
    logits.grad = None
    v = F.cross_entropy(logits, targets, label_smoothing=eps)
    v.backward()
    losses[name] = {"value": float(v), "grad": t(logits.grad), "label_smoothing": eps}
logp = torch.log_softmax(torch.randn(N, C), 1).requires_grad_()
v = F.nll_loss(logp, targets); v.backward()
losses["nll"] = {"input": t(logp), "value": float(v), "grad": t(logp.grad)}
pred = torch.randn(4, 3, requires_grad=True)
target = torch.randn(4, 3)
for name, fn in [("mse", F.mse_loss), ("l1", F.l1_loss), ("smooth_l1", lambda a, b: F.smooth_l1_loss(a, b, beta=0.5))]:
    pred.grad = None
    v = fn(pred, target); v.backward()
    losses[name] = {"value": float(v), "grad": t(pred.grad)}
prob = torch.rand(4, 3).clamp(0.05, 0.95).requires_grad_()
btarget = torch.randint(0, 2, (4, 3)).float()
v = F.binary_cross_entropy(prob, btarget); v.backward()
losses["binary_cross_entropy"] = {"input": t(prob), "value": float(v), "grad": t(prob.grad)}
pred.grad = None
v = F.binary_cross_entropy_with_logits(pred, btarget); v.backward()
losses["binary_cross_entropy_with_logits"] = {"value": float(v), "grad": t(pred.grad)}
out["losses"] = {"logits": t(logits), "targets": targets.tolist(), "shape": [N, C],
                 "prediction": t(pred), "target": t(target), "binary_target": t(btarget), "cases": losses}

# A small network: conv(2->4, 3x3, pad 1) + batchnorm + relu + maxpool 2 + flatten + linear(->3)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 3 * 3, 3)
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        return self.fc(torch.flatten(x, 1))

net = Net()
x = torch.randn(3, 2, 6, 6)
y = torch.tensor([0, 2, 1])
params = {k: t(v) for k, v in net.state_dict().items() if v.dtype == torch.float32}
logits = net(x)
loss = F.cross_entropy(logits, y)
loss.backward()
out["network"] = {
    "input": t(x), "input_shape": list(x.shape), "targets": y.tolist(), "state": params,
    "output": t(logits), "loss": float(loss),
    "grads": {k: t(p.grad) for k, p in net.named_parameters()},
    "running_mean": t(net.bn1.running_mean), "running_var": t(net.bn1.running_var),
}

path = os.path.join(os.path.dirname(__file__), "..", "Tests", "NTrainNNTests", "Fixtures", "nn_golden.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", os.path.normpath(path))
