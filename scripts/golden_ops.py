#!/usr/bin/env python3
"""Writes Tests/NTrainCoreTests/Fixtures/ops_golden.json: PyTorch forward outputs and input
gradients for ntrain's core ops on small fixed inputs.

Each case stores its inputs, a fixed weight tensor w shaped like the output, the output, and the
gradient of sum(output * w) with respect to every float input (float32 throughout). The Swift test
(GoldenOpsTests) maps each case name to the same op and compares.

Run: /work/main/.venv-torch/bin/python scripts/golden_ops.py
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(0)
gen = torch.Generator().manual_seed(1234)


def rand(*shape, lo=-2.0, hi=2.0):
    return torch.rand(tuple(shape), generator=gen) * (hi - lo) + lo


def away_from_zero(*shape, margin=0.1):
    """Values in ±[margin, 2]: no kinks for relu/abs/leaky_relu."""
    x = rand(*shape, lo=margin, hi=2.0)
    sign = torch.where(torch.rand(*shape, generator=gen) < 0.5, -1.0, 1.0)
    return x * sign


def distinct(*shape):
    """A random permutation of spaced values: no ties for max."""
    n = int(np.prod(shape))
    return (torch.randperm(n, generator=gen).float() * 0.37 - n * 0.15).reshape(shape)


def short(values):
    # Shortest decimal that round-trips float32, so the file stays small and exact.
    return [float(str(np.float32(v))) for v in np.asarray(values, dtype=np.float32).ravel()]


cases = []


def case(name, inputs, fn, grad=True):
    """inputs: list of tensors (float inputs get requires_grad); fn(*inputs) -> output."""
    ins = []
    for t in inputs:
        if t.dtype.is_floating_point:
            t = t.float().detach().requires_grad_(grad)
        ins.append(t)
    out = fn(*ins)
    entry = {
        "name": name,
        "inputs": [{"shape": list(t.shape), "dtype": "float32" if t.dtype.is_floating_point else "int32",
                    "values": short(t.detach().numpy())} for t in ins],
        "output": {"shape": list(out.shape), "values": short(out.detach().float().numpy())},
    }
    if grad and out.dtype.is_floating_point:
        w = rand(*out.shape, lo=-1.0, hi=1.0)
        w = torch.tensor(short(w.numpy()), dtype=torch.float32).reshape(tuple(out.shape))
        (out * w).sum().backward()
        entry["w"] = short(w.numpy())
        entry["grads"] = [short(t.grad.numpy()) if t.dtype.is_floating_point and t.grad is not None else None
                          for t in ins]
    cases.append(entry)


# Unary math and activations
case("exp", [rand(3, 5)], torch.exp)
case("log", [rand(3, 5, lo=0.2, hi=3)], torch.log)
case("sqrt", [rand(3, 5, lo=0.2, hi=3)], torch.sqrt)
case("abs", [away_from_zero(3, 5)], torch.abs)
case("pow_2", [rand(3, 5)], lambda x: x.pow(2))
case("pow_1.5", [rand(3, 5, lo=0.2, hi=3)], lambda x: x.pow(1.5))
case("pow_-0.5", [rand(3, 5, lo=0.2, hi=3)], lambda x: x.pow(-0.5))
clampable = rand(4, 5)
clampable = torch.where((clampable + 0.5).abs() < 0.05, clampable + 0.2, clampable)
clampable = torch.where((clampable - 0.7).abs() < 0.05, clampable + 0.2, clampable)
case("clamp_-0.5_0.7", [clampable], lambda x: x.clamp(-0.5, 0.7))
case("clamp_min_-0.5", [clampable], lambda x: x.clamp(min=-0.5))
case("clamp_max_0.7", [clampable], lambda x: x.clamp(max=0.7))
case("relu", [away_from_zero(4, 5)], torch.relu)
case("leaky_relu_0.1", [away_from_zero(4, 5)], lambda x: F.leaky_relu(x, 0.1))
case("leaky_relu_default", [away_from_zero(4, 5)], F.leaky_relu)
case("gelu", [rand(4, 5, lo=-4, hi=4)], F.gelu)
case("sigmoid", [rand(4, 5, lo=-6, hi=6)], torch.sigmoid)
case("tanh", [rand(4, 5, lo=-3, hi=3)], torch.tanh)

# Reductions
case("sum", [rand(3, 4)], lambda x: x.sum())
case("sum_axes_1", [rand(2, 3, 4)], lambda x: x.sum(dim=[1]))
case("sum_axes_0_2_keep", [rand(2, 3, 4)], lambda x: x.sum(dim=[0, 2], keepdim=True))
case("sum_axes_-1", [rand(2, 3, 5)], lambda x: x.sum(dim=[-1]))
case("mean", [rand(3, 4)], lambda x: x.mean())
case("mean_axes_1_keep", [rand(2, 3, 4)], lambda x: x.mean(dim=[1], keepdim=True))
case("mean_axes_0_1", [rand(2, 3, 4)], lambda x: x.mean(dim=[0, 1]))
case("max_axis_1", [distinct(2, 5, 3)], lambda x: x.max(dim=1).values)
case("max_axis_-1_keep", [distinct(3, 4)], lambda x: x.max(dim=-1, keepdim=True).values)
case("argmax_axis_1", [distinct(2, 5, 3)], lambda x: x.argmax(dim=1).int(), grad=False)
case("variance_axes_1", [rand(2, 5, 3)], lambda x: x.var(dim=[1], unbiased=False))
case("variance_axes_0_2_unbiased_keep", [rand(2, 5, 3)], lambda x: x.var(dim=[0, 2], unbiased=True, keepdim=True))

# Softmax
case("softmax_-1", [rand(3, 5, lo=-5, hi=5)], lambda x: torch.softmax(x, dim=-1))
case("softmax_1", [rand(2, 4, 3, lo=-5, hi=5)], lambda x: torch.softmax(x, dim=1))
case("log_softmax_-1", [rand(3, 5, lo=-5, hi=5)], lambda x: torch.log_softmax(x, dim=-1))
case("log_softmax_0", [rand(4, 3, 2, lo=-5, hi=5)], lambda x: torch.log_softmax(x, dim=0))
case("softmax_large_logits", [rand(2, 4, lo=80, hi=120)], lambda x: torch.softmax(x, dim=-1))

# Shape ops
case("reshape_-1_6", [rand(2, 3, 4)], lambda x: x.reshape(-1, 6))
case("flatten_1", [rand(2, 3, 2, 2)], lambda x: x.flatten(1))
case("transpose", [rand(3, 5)], lambda x: x.t())
case("permute_2_0_1", [rand(2, 3, 4)], lambda x: x.permute(2, 0, 1))
case("pad_1_0_2_1", [rand(2, 3)], lambda x: F.pad(x, (2, 1, 1, 0), value=0.5))
case("concat_1", [rand(2, 3, 2), rand(2, 1, 2), rand(2, 2, 2)], lambda a, b, c: torch.cat([a, b, c], dim=1))

# Gather / one-hot
labels = torch.tensor([2, 0, 4, 1], dtype=torch.int32)
case("gather", [rand(4, 5), labels], lambda x, t: x.gather(1, t.long().unsqueeze(1)).squeeze(1))
case("one_hot_5", [labels], lambda t: F.one_hot(t.long(), 5).float(), grad=False)

# Matmul / linear
case("matmul_2d", [rand(3, 4), rand(4, 5)], torch.matmul)
case("matmul_3d", [rand(2, 3, 4), rand(2, 4, 5)], torch.matmul)
case("matmul_3d_2d", [rand(2, 3, 4), rand(4, 5)], torch.matmul)
case("linear_bias", [rand(3, 4), rand(5, 4), rand(5)], F.linear)
case("linear_no_bias", [rand(3, 4), rand(5, 4)], F.linear)
case("linear_3d_input", [rand(2, 3, 4), rand(5, 4), rand(5)], F.linear)

path = os.path.join(os.path.dirname(__file__), "..", "Tests", "NTrainCoreTests", "Fixtures", "ops_golden.json")
with open(path, "w") as f:
    json.dump({"generator": "scripts/golden_ops.py", "torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
print(f"wrote {len(cases)} cases to {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")
