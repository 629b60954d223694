#!/usr/bin/env python3
"""The PyTorch module equivalent to an ntrain model config, with ntrain's state-dict names.

    import ntrain_torch
    model = ntrain_torch.build(config["model"], input_shape=[1, 32, 32], classes=10)
    model.load_state_dict(safetensors.torch.load_file("last.safetensors"))

`config` is an ntrain experiment config (the `ntrain_config` entry of an exported file's metadata,
or the config.json of a run). Built-in architectures become modules whose attributes carry
ntrain's names (`conv1`, `fc1`, `layer2.0.body.conv1`, ...); `model.layers` becomes an
`nn.Sequential` indexed like ntrain's (`0.weight`, `3.body.1.running_mean`). docs/interop.md lists
the mapping. `cli` is a small command line: `python ntrain_torch.py FILE.safetensors` loads an
exported file into its module and prints the parameter count.
"""
import json
import math
import sys

import torch
import torch.nn as nn


class Branches(nn.Module):
    """ntrain's residual/branches block: every path on the same input, merged by add or channel
    concat, then an optional activation. An empty path is the identity."""

    def __init__(self, paths, merge, activation=None, names=None):
        super().__init__()
        self.names = names or [str(i) for i in range(len(paths))]
        for name, path in zip(self.names, paths):
            self.add_module(name, path)
        self.merge = merge
        if activation is not None:
            self.activation = activation
        else:
            self.activation = None

    def forward(self, x):
        outs = [getattr(self, n)(x) if len(getattr(self, n)) else x for n in self.names]
        y = outs[0]
        if self.merge == "add":
            for o in outs[1:]:
                y = y + o
        elif len(outs) > 1:
            y = torch.cat(outs, dim=1)
        return self.activation(y) if self.activation is not None else y


class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


def activation(name):
    return {"relu": nn.ReLU(), "leaky_relu": nn.LeakyReLU(0.01), "gelu": nn.GELU(), "sigmoid": nn.Sigmoid(),
            "tanh": nn.Tanh()}[name]


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def named(pairs):
    seq = nn.Sequential()
    for name, module in pairs:
        seq.add_module(name, module)
    return seq


def conv_out(size, k, s, p, d=1):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


class Shapes:
    """Tracks [C, H, W] or [F] through the layers to size conv/linear inputs, as ntrain infers them."""

    def __init__(self, shape):
        self.shape = list(shape)

    @property
    def channels(self):
        return self.shape[0]

    @property
    def features(self):
        return math.prod(self.shape)


def layer(spec, s):
    (kind, o), = spec.items()
    o = o if isinstance(o, dict) else {}
    if kind == "linear":
        m = nn.Linear(s.features, o["out"], bias=o.get("bias", True))
        s.shape = [o["out"]]
        return m
    if kind == "conv2d":
        k, st, p, d = pair(o["kernel"]), pair(o.get("stride", 1)), pair(o.get("padding", 0)), pair(o.get("dilation", 1))
        m = nn.Conv2d(s.channels, o["out"], k, st, p, d, groups=o.get("groups", 1), bias=o.get("bias", True))
        s.shape = [o["out"], conv_out(s.shape[1], k[0], st[0], p[0], d[0]), conv_out(s.shape[2], k[1], st[1], p[1], d[1])]
        return m
    if kind in ("max_pool2d", "avg_pool2d"):
        k = pair(o["kernel"])
        st, p = pair(o.get("stride", o["kernel"])), pair(o.get("padding", 0))
        m = nn.MaxPool2d(k, st, p) if kind == "max_pool2d" else nn.AvgPool2d(k, st, p, count_include_pad=True)
        s.shape = [s.shape[0], conv_out(s.shape[1], k[0], st[0], p[0]), conv_out(s.shape[2], k[1], st[1], p[1])]
        return m
    if kind in ("batch_norm1d", "batch_norm2d"):
        cls = nn.BatchNorm2d if kind == "batch_norm2d" else nn.BatchNorm1d
        return cls(s.channels, eps=o.get("eps", 1e-5), momentum=o.get("momentum", 0.1), affine=o.get("affine", True))
    if kind == "dropout":
        return nn.Dropout(o.get("p", 0.5))
    if kind == "flatten":
        s.shape = [s.features]
        return nn.Flatten()
    if kind in ("relu", "gelu", "sigmoid", "tanh"):
        return activation(kind)
    if kind == "leaky_relu":
        return nn.LeakyReLU(o.get("slope", 0.01))
    if kind == "softmax":
        return nn.Softmax(dim=o.get("axis", 1))
    if kind == "log_softmax":
        return nn.LogSoftmax(dim=o.get("axis", 1))
    if kind == "identity":
        return nn.Identity()
    if kind == "global_avg_pool2d":
        s.shape = [s.channels, 1, 1]
        return nn.AdaptiveAvgPool2d(1)
    if kind == "scale":
        return Scale(o["factor"])
    if kind == "residual":
        start = list(s.shape)
        body = sequence(o["body"], s)
        end = s.shape
        s.shape = list(start)
        shortcut = sequence(o.get("shortcut", []), s)
        s.shape = end
        act = activation(o["activation"]) if o.get("activation") else None
        return Branches([body, shortcut], "add", act, names=["body", "shortcut"])
    if kind == "branches":
        start, paths, shapes = list(s.shape), [], []
        for p in o["paths"]:
            s.shape = list(start)
            paths.append(sequence(p, s))
            shapes.append(s.shape)
        s.shape = shapes[0] if o["merge"] == "add" else [sum(x[0] for x in shapes)] + shapes[0][1:]
        act = activation(o["activation"]) if o.get("activation") else None
        return Branches(paths, o["merge"], act)
    if kind == "repeat":
        return nn.Sequential(*[sequence(o["layers"], s) for _ in range(o["times"])])
    raise ValueError(f"unknown layer {kind}")


def sequence(specs, s):
    return nn.Sequential(*[layer(spec, s) for spec in specs])


def basic_block(cin, cout, stride, act):
    body = named([("conv1", nn.Conv2d(cin, cout, 3, stride, 1, bias=False)), ("bn1", nn.BatchNorm2d(cout)),
                  ("act1", activation(act)), ("conv2", nn.Conv2d(cout, cout, 3, 1, 1, bias=False)),
                  ("bn2", nn.BatchNorm2d(cout))])
    shortcut = nn.Sequential()
    if stride != 1 or cin != cout:
        shortcut = named([("conv", nn.Conv2d(cin, cout, 1, stride, bias=False)), ("bn", nn.BatchNorm2d(cout))])
    return Branches([body, shortcut], "add", activation(act), names=["body", "shortcut"])


def resnet(input_shape, classes, stem, stages, act):
    parts = [("conv1", nn.Conv2d(input_shape[0], stem, 3, 1, 1, bias=False)), ("bn1", nn.BatchNorm2d(stem)),
             ("act1", activation(act))]
    cin = stem
    for i, (width, blocks, stride) in enumerate(stages):
        parts.append((f"layer{i + 1}", nn.Sequential(*[basic_block(cin if b == 0 else width, width, stride if b == 0 else 1, act)
                                                      for b in range(blocks)])))
        cin = width
    parts += [("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(cin, classes))]
    return named(parts)


def builtin(model, input_shape, classes):
    arch = model["arch"]
    act = model.get("activation") or ("gelu" if arch == "lenet5" else "relu")
    pool = model.get("pool") or ("avg" if arch == "lenet5" else "max")

    def pool2():
        return nn.MaxPool2d(2) if pool == "max" else nn.AvgPool2d(2)

    if arch in ("lenet", "lenet5", "cifar_cnn"):
        c, h, w = input_shape
        pad = 2 if arch == "lenet5" else 0
        h, w = ((h + 2 * pad - 4) // 2 - 4) // 2, ((w + 2 * pad - 4) // 2 - 4) // 2
        return named([("conv1", nn.Conv2d(c, 6, 5, padding=pad)), ("act1", activation(act)), ("pool1", pool2()),
                      ("conv2", nn.Conv2d(6, 16, 5)), ("act2", activation(act)), ("pool2", pool2()),
                      ("flatten", nn.Flatten()), ("fc1", nn.Linear(16 * h * w, 120)), ("act3", activation(act)),
                      ("fc2", nn.Linear(120, 84)), ("act4", activation(act)),
                      ("classifier" if arch == "lenet" else "fc3", nn.Linear(84, classes))])
    if arch == "conv_bn":
        c, h, w = input_shape
        return named([("conv1", nn.Conv2d(c, 128, 3, padding=1)), ("bn1", nn.BatchNorm2d(128)), ("act1", activation(act)),
                      ("pool1", pool2()), ("flatten", nn.Flatten()), ("fc1", nn.Linear(128 * (h // 2) * (w // 2), classes))])
    if arch == "mlp":
        parts, cin = [("flatten", nn.Flatten())], math.prod(input_shape)
        for i, h in enumerate(model.get("hidden", [128])):
            parts += [(f"fc{i + 1}", nn.Linear(cin, h)), (f"act{i + 1}", activation(act))]
            if model.get("dropout", 0) > 0:
                parts.append((f"dropout{i + 1}", nn.Dropout(model["dropout"])))
            cin = h
        parts.append((f"fc{len(model.get('hidden', [128])) + 1}", nn.Linear(cin, classes)))
        return named(parts)
    if arch == "linear":
        return named([("flatten", nn.Flatten()), ("fc", nn.Linear(math.prod(input_shape), classes))])
    if arch in ("resnet20", "resnet32", "resnet56"):
        n, w = (int(arch[6:]) - 2) // 6, model.get("width") or 16
        return resnet(input_shape, classes, w, [(w, n, 1), (2 * w, n, 2), (4 * w, n, 2)], act)
    if arch == "resnet18":
        w = model.get("width") or 64
        return resnet(input_shape, classes, w, [(w, 2, 1), (2 * w, 2, 2), (4 * w, 2, 2), (8 * w, 2, 2)], act)
    raise ValueError(f"unknown arch {arch}")


def build(model, input_shape, classes):
    """The nn.Module for ntrain's `model` config section, for examples of `input_shape` (after the
    data transforms) and `classes` outputs."""
    if model.get("layers") is not None:
        return sequence(model["layers"], Shapes(input_shape))
    return builtin(model, input_shape, classes)


def from_metadata(metadata):
    """The module an exported file's metadata describes (safetensors `__metadata__` or ONNX
    `metadata_props` as a dict)."""
    config = json.loads(metadata["ntrain_config"])
    classes = len(json.loads(metadata["class_names"])) or 1
    return build(config["model"], json.loads(metadata["input_shape"]), classes)


if __name__ == "__main__":
    from safetensors import safe_open
    from safetensors.torch import load_file
    with safe_open(sys.argv[1], "pt") as f:
        meta = f.metadata()
    m = from_metadata(meta)
    m.load_state_dict(load_file(sys.argv[1]))
    print(f"{sys.argv[1]}: loaded into {type(m).__name__}, {sum(p.numel() for p in m.parameters())} parameters")
