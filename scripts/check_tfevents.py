#!/usr/bin/env python3
"""Reads a run folder's TensorBoard events with TensorBoard's own reader and prints the scalars.

    python3 -m venv .venv-tb && .venv-tb/bin/pip install tensorboard
    .venv-tb/bin/python scripts/check_tfevents.py runs/lenet-mnist/<time>
"""
import glob, os, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

run = sys.argv[1] if len(sys.argv) > 1 else "."
files = sorted(glob.glob(os.path.join(run, "events.out.tfevents.*")))
if not files:
    sys.exit(f"no events.out.tfevents.* in {run}")
acc = EventAccumulator(files[-1])
acc.Reload()
for tag in sorted(acc.Tags()["scalars"]):
    points = acc.Scalars(tag)
    print(f"{tag:28s} {len(points):5d} points, last step {points[-1].step}: {points[-1].value:.6g}")
