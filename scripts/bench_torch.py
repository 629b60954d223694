#!/usr/bin/env python3
"""PyTorch side of scripts/bench: the same workloads as ntrain-bench, on the same data.

Each command prints one line `RESULT {json}` with images, seconds, images_per_second and
max_rss_kb (this process), like ntrain-bench. Threads: torch.set_num_threads(BENCH_THREADS).
Data is read from the same files ntrain reads (NTRAIN_DATA/mnist, NTRAIN_DATA/cifar10) and held in
memory as normalised float tensors; each epoch is shuffled by a seeded permutation (timed). Like
ntrain's Trainer, training workloads evaluate on the test split after each epoch (untimed, but part
of the peak RSS on both sides).

BENCH_DEVICE=cuda runs the training workloads on the GPU (eager mode, synchronised per step by
loss.item(), as ntrain's trainer reads each step's loss).

usage: bench_torch.py lenet|lenet5|cifar|convbn RANDOM_DATA|infer|coldstart WEIGHTS|resnet [IMAGES] [--compile] [--save WEIGHTS]
"""
import gzip
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

THREADS = int(os.environ.get("BENCH_THREADS", "2"))
torch.set_num_threads(THREADS)
# BENCH_DEVICE=cuda trains on the GPU (scripts/gpu_check.sh); data is moved there once, untimed.
DEVICE = torch.device(os.environ.get("BENCH_DEVICE", "cpu"))
ROOT = os.environ.get("NTRAIN_DATA", os.path.expanduser("~/.cache/ntrain/datasets"))


def result(workload, images, seconds, **extra):
    fields = dict(workload=workload, images=images, seconds=seconds, images_per_second=images / seconds,
                  threads=torch.get_num_threads(), torch=torch.__version__,
                  max_rss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, **extra)
    print("RESULT " + json.dumps(fields, sort_keys=True), flush=True)


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def mnist(split, pad):
    prefix = "train" if split == "train" else "t10k"
    x = idx(f"{ROOT}/mnist/{prefix}-images-idx3-ubyte.gz")
    y = idx(f"{ROOT}/mnist/{prefix}-labels-idx1-ubyte.gz")
    x = (torch.from_numpy(x.astype(np.float32) / 255.0) - 0.1307) / 0.3081
    x = x.unsqueeze(1)
    if pad:
        x = F.pad(x, (pad, pad, pad, pad))
    return x.contiguous(), torch.from_numpy(y.astype(np.int64))


def cifar_train():
    xs, ys = [], []
    for i in range(1, 6):
        raw = np.fromfile(f"{ROOT}/cifar10/data_batch_{i}.bin", dtype=np.uint8).reshape(-1, 3073)
        ys.append(raw[:, 0].astype(np.int64))
        xs.append(raw[:, 1:].reshape(-1, 3, 32, 32))
    x = (torch.from_numpy(np.concatenate(xs).astype(np.float32) / 255.0) - 0.5) / 0.5
    return x.contiguous(), torch.from_numpy(np.concatenate(ys))


def cifar_test():
    # The test file ntrain reads: test_batch.bin, else the partial copy of its first 1,000 records.
    path = f"{ROOT}/cifar10/test_batch.bin"
    if not os.path.exists(path):
        path = f"{ROOT}/cifar10/test_batch.first1000.bin"
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)
    x = (torch.from_numpy(raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0) - 0.5) / 0.5
    return x.contiguous(), torch.from_numpy(raw[:, 0].astype(np.int64))


def random_data(path):
    raw = np.fromfile(path, dtype=np.uint8)
    n = 1000
    images = raw[:n * 3 * 28 * 28].reshape(n, 3, 28, 28)
    labels = raw[n * 3 * 28 * 28:].view(np.int32).astype(np.int64)
    return torch.from_numpy(images.astype(np.float32) / 255.0), torch.from_numpy(labels)


class LeNet(nn.Module):
    """MegEngine's LeNet (lenet), the course lab's LeNet-5 (lenet5) and PyTorch's CIFAR CNN."""

    def __init__(self, channels=1, pad=0, act=nn.ReLU, pool=nn.MaxPool2d, flat=16 * 5 * 5):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 6, 5, padding=pad)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(flat, 120)
        self.fc2 = nn.Linear(120, 84)
        self.classifier = nn.Linear(84, 10)
        self.act = act()
        self.pool = pool(2)

    def forward(self, x):
        x = self.pool(self.act(self.conv1(x)))
        x = self.pool(self.act(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        return self.classifier(x)


class ConvBN(nn.Module):
    """MXNet's Module example: conv 128 3x3 pad 1, BatchNorm, ReLU, max-pool 2, FC."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 128, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(128)
        self.fc1 = nn.Linear(128 * 14 * 14, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        return self.fc1(torch.flatten(x, 1))


def evaluate(model, test, batch=1000):
    """What ntrain's Trainer does after each epoch (untimed on both sides): accuracy on the test
    split in eval mode without gradients, at the configs' eval_batch_size (1000)."""
    xt, yt = test
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(xt[i:i + batch]).argmax(1) == yt[i:i + batch]).sum()) for i in range(0, len(xt), batch))
    model.train()
    return correct / len(xt)


def train(name, model, opt, x, y, batch, epochs, drop_last, save=None, test=None):
    torch.manual_seed(1)
    g = torch.Generator().manual_seed(1)
    model.to(DEVICE)  # in place: the optimizer keeps the same parameters
    x, y = x.to(DEVICE), y.to(DEVICE)
    if test is not None:
        test = (test[0].to(DEVICE), test[1].to(DEVICE))
    model.train()
    n = len(x)
    steps = n // batch if drop_last else (n + batch - 1) // batch
    seconds = 0.0
    for _ in range(epochs):
        start = time.perf_counter()
        # One gather per epoch into shuffled copies, then contiguous slices: faster than a gather
        # per batch (measured), and still timed.
        order = torch.randperm(n, generator=g).to(DEVICE)
        xs, ys = x[order], y[order]
        total = 0.0
        for s in range(steps):
            out = model(xs[s * batch:(s + 1) * batch])
            loss = F.cross_entropy(out, ys[s * batch:(s + 1) * batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        if DEVICE.type == "cuda":
            torch.cuda.synchronize()
        seconds += time.perf_counter() - start
        accuracy = evaluate(model, test) if test is not None else None
    if save:
        torch.save(model.state_dict(), save)
    images = epochs * (steps * batch if drop_last else n)
    result("train:" + name, images, seconds, train_loss=total / steps, eval_accuracy=accuracy, device=str(DEVICE))


class Residual(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


def recipe_net():
    """configs/cifar10-resnet.json: a 2x2 whitening conv (frozen weights), three groups of
    conv -> max-pool -> BN -> GELU -> residual(conv -> BN -> GELU), max-pool, linear, x 1/9."""
    def group(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(cout, eps=1e-12), nn.GELU(),
                Residual(nn.Sequential(nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout, eps=1e-12), nn.GELU()))]
    net = nn.Sequential(nn.Conv2d(3, 24, 2), nn.GELU(), *group(24, 64), *group(64, 256), *group(256, 256),
                        nn.MaxPool2d(3), nn.Flatten(), nn.Linear(256, 10, bias=False))
    net[0].weight.requires_grad = False
    return net


def train_recipe(images, compiled):
    """Workload 7: training steps of the CIFAR residual recipe with its optimizer (Nesterov SGD,
    parameter groups: BN biases at 64x lr, BN weights frozen), label smoothing 0.2, random crop
    (padding 2) and flip done per batch on tensors, batch 512, on the first IMAGES images."""
    cfg = json.load(open(os.path.join(os.path.dirname(__file__), "..", "configs", "cifar10-resnet.json")))
    batch = cfg["data"]["batch_size"]
    x, y = cifar_train()
    x, y = x[:images], y[:images]
    mean = torch.tensor(cfg["data"]["transforms"][2]["normalize"]["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(cfg["data"]["transforms"][2]["normalize"]["std"]).view(1, 3, 1, 1)
    x = ((x * 0.5 + 0.5) - mean) / std
    torch.manual_seed(1)
    net = recipe_net()
    o = cfg["optimizer"]
    bn_bias = [p for m in net.modules() if isinstance(m, nn.BatchNorm2d) for p in [m.bias]]
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.requires_grad = False
    ids = {id(p) for p in bn_bias}
    rest = [p for p in net.parameters() if p.requires_grad and id(p) not in ids]
    opt = torch.optim.SGD([{"params": bn_bias, "lr": o["lr"] * 64, "weight_decay": o["groups"][1]["weight_decay"]},
                           {"params": rest, "lr": o["lr"], "weight_decay": o["weight_decay"]}],
                          momentum=o["momentum"], nesterov=True)
    model = torch.compile(net) if compiled else net
    model.train()
    n = len(x)
    steps = (n + batch - 1) // batch
    g = torch.Generator().manual_seed(1)

    def augment(xb):
        padded = F.pad(xb, (2, 2, 2, 2))
        offsets = torch.randint(0, 5, (len(xb), 2), generator=g)
        out = torch.stack([padded[i, :, a:a + 32, b:b + 32] for i, (a, b) in enumerate(offsets.tolist())])
        flip = torch.rand(len(xb), generator=g) < 0.5
        return torch.where(flip.view(-1, 1, 1, 1), out.flip(3), out)

    def epoch():
        order = torch.randperm(n, generator=g)
        total = 0.0
        for s in range(steps):
            idx = order[s * batch:(s + 1) * batch]
            out = model(augment(x[idx])) / 9
            loss = F.cross_entropy(out, y[idx], label_smoothing=0.2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        return total / steps
    if compiled:
        epoch()  # compilation, untimed
    start = time.perf_counter()
    loss = epoch()
    seconds = time.perf_counter() - start
    result("train:cifar10-resnet" + ("-compiled" if compiled else ""), n, seconds, train_loss=loss, compiled=compiled)


def main():
    args = sys.argv[1:]
    save = None
    if "--save" in args:
        i = args.index("--save")
        save = args[i + 1]
        del args[i:i + 2]
    torch.manual_seed(1)
    what = args[0]
    if what == "lenet":
        x, y = mnist("train", 2)
        model = LeNet()
        train("lenet-mnist", model, torch.optim.SGD(model.parameters(), lr=0.05), x, y, 64, 1, True, save,
              test=mnist("test", 2))
    elif what == "lenet5":
        x, y = mnist("train", 0)
        model = LeNet(pad=2, act=nn.GELU, pool=nn.AvgPool2d)
        train("lenet5-gelu-mnist", model, torch.optim.NAdam(model.parameters(), lr=3e-3), x, y,
              int(args[1]) if len(args) > 1 else 128, 1, False, test=mnist("test", 0))
    elif what == "cifar":
        x, y = cifar_train()
        model = LeNet(channels=3)
        train("cifar10-cnn", model, torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9), x, y,
              int(args[1]) if len(args) > 1 else 4, 1, False, test=cifar_test())
    elif what == "convbn":
        x, y = random_data(args[1])
        model = ConvBN()
        # ntrain evaluates on its own 200 random test images; the first 200 training images have
        # the same shape and cost (accuracy on random labels means nothing either way).
        train("conv-bn-random", model, torch.optim.SGD(model.parameters(), lr=0.01), x, y, 8, 5, False,
              test=(x[:200], y[:200]))
    elif what == "infer":
        x, y = mnist("test", 2)
        model = LeNet().eval()
        batch = int(args[1]) if len(args) > 1 else 1000

        def run():
            with torch.no_grad():
                return sum(int((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum()) for i in range(0, len(x), batch))
        run()
        times = []
        for _ in range(5):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        result("infer:lenet", len(x), sorted(times)[len(times) // 2])
    elif what == "coldstart":
        # The whole process is timed from outside; this is what a user's eval script does.
        model = LeNet()
        model.load_state_dict(torch.load(args[1]))
        model.eval()
        x, y = mnist("test", 2)
        with torch.no_grad():
            correct = sum(int((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum()) for i in range(0, len(x), 1000))
        print(f"accuracy {correct / len(x):.4f}")
        result("coldstart:lenet", len(x), 1.0, accuracy=correct / len(x))
    elif what == "resnet":
        compiled = "--compile" in args
        rest = [a for a in args[1:] if a != "--compile"]
        train_recipe(int(rest[0]) if rest else 50000, compiled)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
