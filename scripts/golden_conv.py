#!/usr/bin/env python3
"""Golden values for ntrain's conv ops, computed with PyTorch (CPU, float32).

Run with the project's torch venv:
    /work/main/.venv-torch/bin/python scripts/golden_conv.py
Writes Tests/NTrainCoreTests/Fixtures/conv_golden.json: for each case the inputs, the forward
output and the gradients of sum(out * probe) for a fixed random `probe`. Inputs are rounded to
4 decimals so Swift parses exactly the float32 values PyTorch used.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NTrainCoreTests", "Fixtures", "conv_golden.json")


def rand(*shape, lo=-1.0, hi=1.0):
    t = torch.rand(*shape, dtype=torch.float64) * (hi - lo) + lo
    return torch.round(t * 1e4).div(1e4).float()


def distinct(*shape):
    """Values with no ties (a shuffled grid plus offset), for max pooling."""
    n = 1
    for s in shape:
        n *= s
    perm = torch.randperm(n).double()
    return torch.round((perm / n * 2 - 1) * 1e4).div(1e4).float().reshape(*shape)


def enc(t):
    return {"shape": list(t.shape), "data": [float("%.8g" % v) for v in t.detach().reshape(-1).tolist()]}


def conv_case(name, n, c, h, w, o, k, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1, bias=True):
    x = rand(n, c, h, w).requires_grad_()
    weight = rand(o, c // groups, *k, lo=-0.5, hi=0.5).requires_grad_()
    b = rand(o).requires_grad_() if bias else None
    out = F.conv2d(x, weight, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    probe = rand(*out.shape)
    (out * probe).sum().backward()
    case = {"name": name, "x": enc(x), "weight": enc(weight), "stride": list(stride), "padding": list(padding),
            "dilation": list(dilation), "groups": groups, "out": enc(out), "probe": enc(probe),
            "grad_x": enc(x.grad), "grad_weight": enc(weight.grad)}
    if bias:
        case["bias"] = enc(b)
        case["grad_bias"] = enc(b.grad)
    return case


def pool_case(kind, name, n, c, h, w, k, stride=None, padding=(0, 0)):
    x = (distinct(n, c, h, w) if kind == "max" else rand(n, c, h, w)).requires_grad_()
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    out = fn(x, k, stride=stride, padding=padding)
    probe = rand(*out.shape)
    (out * probe).sum().backward()
    return {"name": name, "x": enc(x), "kernel": list(k), "stride": list(stride) if stride else None,
            "padding": list(padding), "out": enc(out), "probe": enc(probe), "grad_x": enc(x.grad)}


def bn_case(name, shape, training, affine=True, momentum=0.1, eps=1e-5):
    c = shape[1]
    x = (rand(*shape) * 2 + 0.5).requires_grad_()
    weight = rand(c, lo=0.5, hi=1.5).requires_grad_() if affine else None
    bias = rand(c).requires_grad_() if affine else None
    rm = rand(c, lo=-0.2, hi=0.2)
    rv = rand(c, lo=0.5, hi=1.5)
    case = {"name": name, "x": enc(x), "training": training, "momentum": momentum, "eps": eps,
            "running_mean": enc(rm), "running_var": enc(rv)}
    out = F.batch_norm(x, rm, rv, weight, bias, training=training, momentum=momentum, eps=eps)
    probe = rand(*out.shape)
    (out * probe).sum().backward()
    case.update({"out": enc(out), "probe": enc(probe), "grad_x": enc(x.grad),
                 "new_running_mean": enc(rm), "new_running_var": enc(rv)})
    if affine:
        case.update({"weight": enc(weight), "bias": enc(bias),
                     "grad_weight": enc(weight.grad), "grad_bias": enc(bias.grad)})
    return case


golden = {
    "conv2d": [
        conv_case("basic 3x3", 2, 3, 6, 7, 4, (3, 3)),
        conv_case("groups dilation stride padding", 2, 4, 7, 9, 6, (3, 2), stride=(2, 2), padding=(1, 1),
                  dilation=(2, 2), groups=2),
        conv_case("asymmetric stride and padding, no bias", 1, 2, 8, 6, 3, (2, 3), stride=(1, 2), padding=(2, 0),
                  dilation=(1, 2), bias=False),
        conv_case("pointwise 1x1", 3, 5, 4, 3, 2, (1, 1)),
        conv_case("depthwise", 2, 3, 5, 5, 3, (3, 3), padding=(1, 1), groups=3),
        conv_case("lenet conv1 slice", 2, 1, 12, 12, 6, (5, 5)),
    ],
    "max_pool2d": [
        pool_case("max", "2x2", 2, 3, 6, 8, (2, 2)),
        pool_case("max", "3x3 stride 2 pad 1 odd", 1, 2, 7, 9, (3, 3), stride=(2, 2), padding=(1, 1)),
        pool_case("max", "overlapping 3x2 stride 1", 2, 2, 5, 6, (3, 2), stride=(1, 1), padding=(1, 0)),
    ],
    "avg_pool2d": [
        pool_case("avg", "2x2", 2, 3, 6, 8, (2, 2)),
        pool_case("avg", "3x3 stride 2 pad 1 odd", 1, 2, 7, 9, (3, 3), stride=(2, 2), padding=(1, 1)),
        pool_case("avg", "overlapping 3x2 stride 1", 2, 2, 5, 6, (3, 2), stride=(1, 1), padding=(1, 0)),
    ],
    "batch_norm": [
        bn_case("2d training", (3, 4, 5, 3), training=True),
        bn_case("2d eval", (3, 4, 5, 3), training=False),
        bn_case("1d training", (7, 5), training=True, momentum=0.3),
        bn_case("1d eval", (7, 5), training=False),
        bn_case("2d training no affine", (2, 3, 4, 4), training=True, affine=False, eps=1e-3),
    ],
}

with open(OUT, "w") as f:
    json.dump(golden, f, separators=(",", ":"))
print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")
