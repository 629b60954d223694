#!/usr/bin/env python3
"""The consumers of ntrain's exports, run by the interop tests (Tests/NTrainEngineTests/InteropConsumerTests.swift).

    interop_check.py exports MANIFEST.json
        For each case {name, onnx, safetensors, batch}: onnx.checker.check_model (full check), then
        onnxruntime on batch["input"]; PyTorch builds the equivalent module from the safetensors
        metadata (ntrain_torch.py), loads the state dict strictly and runs the same input. Prints one
        JSON object {name: {onnx_max_abs, torch_max_abs, scale, ...}}; comparing is the test's job.

    interop_check.py torch-train CONFIG.json BATCHES.safetensors OUT_PREFIX
        Builds the config's model in PyTorch (torch.manual_seed(0)), saves its state dict to
        OUT_PREFIX.init.safetensors and its eval-mode logits of batch 0 to OUT_PREFIX.logits.safetensors,
        then trains it on input_k/target_k (k = 0, 1, ...) with the config's SGD, and writes each
        step's loss to OUT_PREFIX.losses.json.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.numpy import load_file as load_numpy
from safetensors.torch import load_file as load_torch, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ntrain_torch  # noqa: E402

torch.set_num_threads(1)


def exports(manifest):
    import onnx
    import onnxruntime as ort
    results = {}
    for case in json.load(open(manifest)):
        batch = load_numpy(case["batch"])
        x, expected = batch["input"], batch["logits"]
        model = onnx.load(case["onnx"])
        onnx.checker.check_model(model, full_check=True)
        session = ort.InferenceSession(case["onnx"], providers=["CPUExecutionProvider"])
        inputs = [i.name for i in session.get_inputs()]
        outputs = [o.name for o in session.get_outputs()]
        got = session.run(["logits"], {"input": x})[0]
        # The batch dimension is symbolic: one image alone must work too.
        single = session.run(["logits"], {"input": x[:1]})[0]
        with safe_open(case["safetensors"], "pt") as f:
            meta = f.metadata()
        module = ntrain_torch.from_metadata(meta)
        module.load_state_dict(load_torch(case["safetensors"]), strict=True)
        module.eval()
        with torch.no_grad():
            torch_logits = module(torch.from_numpy(x)).numpy()
        props = {p.key: p.value for p in model.metadata_props}
        results[case["name"]] = {
            "onnx_max_abs": float(np.abs(got - expected).max()),
            "onnx_single_max_abs": float(np.abs(single - expected[:1]).max()),
            "torch_max_abs": float(np.abs(torch_logits - expected).max()),
            "scale": float(np.abs(expected).max()),
            "inputs": inputs, "outputs": outputs,
            "opset": int(model.opset_import[0].version),
            "input_dims": [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim],
            "class_names": json.loads(props.get("class_names", "null")),
            "ops": sorted({n.op_type for n in model.graph.node}),
        }
    print(json.dumps(results))


def torch_train(config_path, batches_path, prefix):
    config = json.load(open(config_path))
    batches = load_torch(batches_path)
    steps = len([k for k in batches if k.startswith("input_")])
    x0 = batches["input_0"]
    torch.manual_seed(0)
    classes = int(batches["classes"].item())
    model = ntrain_torch.build(config["model"], list(x0.shape[1:]), classes)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, prefix + ".init.safetensors")
    model.eval()
    with torch.no_grad():
        save_file({"logits": model(x0).contiguous()}, prefix + ".logits.safetensors")
    model.train()
    o = config["optimizer"]
    assert o["type"] == "sgd", "the test trains with SGD"
    opt = torch.optim.SGD(model.parameters(), lr=o["lr"], momentum=o.get("momentum", 0), weight_decay=o.get("weight_decay", 0),
                          nesterov=o.get("nesterov", False))
    losses = []
    for k in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(batches[f"input_{k}"]), batches[f"target_{k}"].long())
        loss.backward()
        opt.step()
        losses.append(loss.item())
    json.dump(losses, open(prefix + ".losses.json", "w"))


if __name__ == "__main__":
    if sys.argv[1] == "exports":
        exports(sys.argv[2])
    elif sys.argv[1] == "torch-train":
        torch_train(*sys.argv[2:5])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
