#!/usr/bin/env python3
"""Golden values for ntrain's optimizers, LR schedulers and gradient clipping, from PyTorch.

Run with the project's torch venv:
    /work/main/.venv-torch/bin/python scripts/golden_optim.py
Writes Tests/NTrainNNTests/Fixtures/optim_golden.json.

Every hyperparameter and learning rate is rounded to float32 first, because ntrain holds them as
Float: both sides then start from identical numbers.
"""
import json
import math
import os
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore")
torch.set_num_threads(1)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "NTrainNNTests", "Fixtures", "optim_golden.json")
SHAPES = [[2, 3], [5]]
STEPS = 5


def f32(x):
    return float(np.float32(x))


def vals(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


DEFAULTS = {
    "sgd": {"momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False},
    "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False},
    "adamw": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False},
    "nadam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "momentum_decay": 4e-3,
              "decoupled_weight_decay": False},
    "adagrad": {"lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0, "eps": 1e-10},
    "rmsprop": {"alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "centered": False},
}


def optimizer_case(name, kind, options, skip=None):
    """5 steps on two params with fixed gradients; `skip` = (step, param) whose grad is None."""
    rng = np.random.default_rng(sum(map(ord, name)))
    init = [rng.normal(0, 1, size=s).astype(np.float32) for s in SHAPES]
    grads = [[(rng.normal(0, 0.5, size=s)).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    params = [torch.tensor(x.copy(), requires_grad=True) for x in init]
    # Spell out PyTorch's defaults (rounded to float32) so both sides use identical values.
    opts = {k: (f32(v) if isinstance(v, float) else v) for k, v in {**DEFAULTS[kind], **options}.items()}
    torch_opts = dict(opts)
    if "beta1" in torch_opts:
        torch_opts["betas"] = (torch_opts.pop("beta1"), torch_opts.pop("beta2"))
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "nadam": torch.optim.NAdam,
           "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop}[kind]
    opt = cls(params, foreach=False, **torch_opts)
    after = []
    step_grads = []
    for s in range(STEPS):
        row = []
        for i, p in enumerate(params):
            if skip is not None and skip == (s, i):
                p.grad = None
                row.append(None)
            else:
                p.grad = torch.tensor(grads[s][i])
                row.append([float(v) for v in grads[s][i].reshape(-1)])
        step_grads.append(row)
        opt.step()
        after.append([vals(p) for p in params])
    return {"name": name, "type": kind, "options": opts, "shapes": SHAPES,
            "init": [[float(v) for v in x.reshape(-1)] for x in init], "grads": step_grads, "params": after}


def optimizer_cases():
    return [
        optimizer_case("sgd_plain", "sgd", {"lr": 0.1}),
        optimizer_case("sgd_momentum", "sgd", {"lr": 0.1, "momentum": 0.9}),
        optimizer_case("sgd_nesterov_wd", "sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
        optimizer_case("sgd_dampening_wd", "sgd", {"lr": 0.1, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.001}),
        optimizer_case("sgd_momentum_skip", "sgd", {"lr": 0.1, "momentum": 0.9}, skip=(0, 1)),
        optimizer_case("adam", "adam", {"lr": 0.01}),
        optimizer_case("adam_wd_amsgrad", "adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "weight_decay": 0.05, "amsgrad": True}),
        optimizer_case("adam_eps_skip", "adam", {"lr": 0.02, "eps": 1e-3}, skip=(2, 1)),
        optimizer_case("adamw", "adamw", {"lr": 0.01, "weight_decay": 0.1}),
        optimizer_case("adamw_amsgrad", "adamw", {"lr": 0.02, "amsgrad": True}),
        optimizer_case("nadam", "nadam", {"lr": 0.01}),
        optimizer_case("nadam_wd", "nadam", {"lr": 0.01, "weight_decay": 0.02, "momentum_decay": 0.01}),
        optimizer_case("nadam_decoupled", "nadam", {"lr": 0.01, "beta1": 0.85, "weight_decay": 0.05, "decoupled_weight_decay": True}),
        optimizer_case("adagrad", "adagrad", {"lr": 0.1}),
        optimizer_case("adagrad_decay", "adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.01,
                                                    "initial_accumulator_value": 0.1, "eps": 1e-8}),
        optimizer_case("rmsprop", "rmsprop", {"lr": 0.01}),
        optimizer_case("rmsprop_momentum", "rmsprop", {"lr": 0.01, "momentum": 0.9}),
        optimizer_case("rmsprop_centered_momentum_wd", "rmsprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True,
                                                                   "weight_decay": 0.01}),
        optimizer_case("rmsprop_centered", "rmsprop", {"lr": 0.005, "centered": True, "eps": 1e-6}),
    ]


# ---------------------------------------------------------------- schedulers

N_STEPS = 12
S = torch.optim.lr_scheduler


def spec(kind, **kw):
    return {"type": kind, **kw}


def make(opt, sp):
    k = sp["type"]
    if k == "constant":
        return S.ConstantLR(opt, factor=sp["factor"], total_iters=sp["total_iters"])
    if k == "step":
        return S.StepLR(opt, step_size=sp["step_size"], gamma=sp["gamma"])
    if k == "multistep":
        return S.MultiStepLR(opt, milestones=sp["milestones"], gamma=sp["gamma"])
    if k == "exponential":
        return S.ExponentialLR(opt, gamma=sp["gamma"])
    if k == "cosine":
        return S.CosineAnnealingLR(opt, T_max=sp["t_max"], eta_min=sp["eta_min"])
    if k == "linear":
        return S.LinearLR(opt, start_factor=sp["start_factor"], end_factor=sp["end_factor"], total_iters=sp["total_iters"])
    if k == "inverse_time":
        r, c = sp["decay_steps"], sp["power"]
        return S.LambdaLR(opt, lambda t: (1 + t / r) ** -c)
    if k == "piecewise":
        v, base = sp["values"], opt.param_groups[0]["initial_lr"] if "initial_lr" in opt.param_groups[0] else opt.param_groups[0]["lr"]
        return S.LambdaLR(opt, lambda t: v[min(t, len(v) - 1)] / base)
    if k == "chain":
        return S.ChainedScheduler([make(opt, c) for c in sp["schedulers"]])
    if k == "sequential":
        return S.SequentialLR(opt, [make(opt, c) for c in sp["schedulers"]], milestones=sp["milestones"])
    raise ValueError(k)


def scheduler_case(name, base, sp, metrics=None):
    base = f32(base)
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base)
    if sp["type"] == "plateau":
        opts = {k: v for k, v in sp.items() if k != "type"}
        sched = S.ReduceLROnPlateau(opt, **opts)
        lrs = [opt.param_groups[0]["lr"]]
        for m in metrics:
            opt.step()
            sched.step(m)
            lrs.append(opt.param_groups[0]["lr"])
        return {"name": name, "base_lr": base, "spec": sp, "metrics": metrics, "lrs": lrs}
    sched = make(opt, sp)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(N_STEPS):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return {"name": name, "base_lr": base, "spec": sp, "lrs": lrs}


def scheduler_cases():
    lin = spec("linear", start_factor=0.25, end_factor=1.0, total_iters=4)
    return [
        scheduler_case("constant_plain", 0.1, spec("constant", factor=1.0, total_iters=0)),
        scheduler_case("constant_factor", 0.1, spec("constant", factor=0.5, total_iters=4)),
        scheduler_case("step", 0.1, spec("step", step_size=3, gamma=0.5)),
        scheduler_case("multistep_dup", 0.2, spec("multistep", milestones=[5, 2, 5, 9], gamma=0.3)),
        scheduler_case("exponential", 0.05, spec("exponential", gamma=0.9)),
        scheduler_case("cosine", 0.1, spec("cosine", t_max=5, eta_min=0.01)),
        scheduler_case("cosine_zero_min", 0.3, spec("cosine", t_max=10, eta_min=0.0)),
        scheduler_case("inverse_time", 0.1, spec("inverse_time", decay_steps=2.0, power=0.75)),
        scheduler_case("piecewise", 0.1, spec("piecewise", values=[0.1, 0.05, 0.02, 0.01])),
        scheduler_case("linear_warmup", 0.1, lin),
        scheduler_case("linear_decay", 0.1, spec("linear", start_factor=1.0, end_factor=0.1, total_iters=6)),
        scheduler_case("chain_warmup_exp", 0.1, spec("chain", schedulers=[lin, spec("exponential", gamma=0.9)])),
        scheduler_case("chain_step_constant", 0.1, spec("chain", schedulers=[spec("step", step_size=3, gamma=0.5),
                                                                            spec("constant", factor=0.5, total_iters=2)])),
        scheduler_case("sequential_warmup_cosine", 0.1, spec("sequential", milestones=[3], schedulers=[
            spec("linear", start_factor=0.2, end_factor=1.0, total_iters=3), spec("cosine", t_max=6, eta_min=0.001)])),
        scheduler_case("sequential_three", 0.1, spec("sequential", milestones=[2, 6], schedulers=[
            spec("constant", factor=0.1, total_iters=2), spec("exponential", gamma=0.8), spec("step", step_size=2, gamma=0.5)])),
        scheduler_case("plateau_min", 0.1, spec("plateau", mode="min", factor=0.5, patience=2, threshold=1e-4,
                                                threshold_mode="rel", cooldown=1, min_lr=0.02, eps=1e-8),
                       metrics=[1.0, 0.9, 0.9, 0.9, 0.95, 0.8999, 0.85, 0.85, 0.86, 0.87, 0.88, 0.84, 0.9, 0.9, 0.9, 0.9]),
        scheduler_case("plateau_max_abs", 0.1, spec("plateau", mode="max", factor=0.5, patience=1, threshold=0.01,
                                                    threshold_mode="abs", cooldown=0, min_lr=0.0, eps=1e-8),
                       metrics=[0.5, 0.6, 0.605, 0.6, 0.7, 0.71, 0.705, 0.72, 0.8, 0.79, 0.78, 0.77]),
    ]


# ---------------------------------------------------------------- clipping

def clipping_cases():
    rng = np.random.default_rng(7)
    grads = [rng.normal(0, 1, size=s).astype(np.float32) for s in SHAPES]
    out = []
    for max_norm, norm_type in [(1.0, 2.0), (100.0, 2.0), (2.0, 1.0), (0.5, "inf"), (1.5, 3.0)]:
        ps = [torch.zeros(s, requires_grad=True) for s in SHAPES]
        for p, g in zip(ps, grads):
            p.grad = torch.tensor(g)
        nt = math.inf if norm_type == "inf" else norm_type
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm=max_norm, norm_type=nt, foreach=False)
        out.append({"kind": "norm", "max_norm": max_norm, "norm_type": norm_type, "total_norm": float(total),
                    "grads": [[float(v) for v in g.reshape(-1)] for g in grads], "clipped": [vals(p.grad) for p in ps]})
    ps = [torch.zeros(s, requires_grad=True) for s in SHAPES]
    for p, g in zip(ps, grads):
        p.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_value_(ps, clip_value=0.5, foreach=False)
    out.append({"kind": "value", "clip_value": 0.5, "grads": [[float(v) for v in g.reshape(-1)] for g in grads],
                "clipped": [vals(p.grad) for p in ps]})
    return out


def main():
    data = {"torch_version": torch.__version__, "shapes": SHAPES,
            "optimizers": optimizer_cases(), "schedulers": scheduler_cases(), "clipping": clipping_cases()}
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
