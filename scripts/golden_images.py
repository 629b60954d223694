#!/usr/bin/env python3
"""Writes Tests/NTrainDataTests/Fixtures/: small images and what PIL and PyTorch make of them.

- rgb.jpg (40x30, quality 90, 4:2:0), gray.jpg (13x11) and progressive.jpg: PIL's decoded pixels;
- alpha.png (9x7 RGBA) and palette.png: PIL's convert("RGB") pixels;
- rgb.jpg's pixels converted to gray by PIL's convert("L") (ITU-R 601-2 luma);
- those pixels resized by torch.nn.functional.interpolate(mode="bilinear", antialias=True,
  align_corners=False), what torchvision's Resize does, to 16x12 (shrink), 50x37 (enlarge) and
  28x28, rounded to bytes.

The pixels come from a formula, so only the decoders' and PyTorch's results are stored.
Run: .venv-interop/bin/python scripts/golden_images.py   (pillow, torch; see docs/interop.md)
"""
import io
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "NTrainDataTests", "Fixtures")
os.makedirs(out, exist_ok=True)


def pattern(h, w, c):
    a = np.zeros((h, w, c), dtype=np.uint8)
    for y in range(h):
        for x in range(w):
            for k in range(c):
                a[y, x, k] = int(127.5 + 127.5 * math.sin(0.37 * x + 0.23 * y * (k + 1) + 1.1 * k))
    return a


def flat(a):
    """Planar [C, H, W] as a flat list (ntrain's layout)."""
    if a.ndim == 2:
        a = a[:, :, None]
    return a.transpose(2, 0, 1).reshape(-1).tolist()


golden = {}
rgb = Image.fromarray(pattern(30, 40, 3), "RGB")
rgb.save(os.path.join(out, "rgb.jpg"), quality=90)
Image.fromarray(pattern(11, 13, 1)[:, :, 0], "L").save(os.path.join(out, "gray.jpg"), quality=85)
rgb.save(os.path.join(out, "progressive.jpg"), quality=80, progressive=True)
Image.fromarray(pattern(7, 9, 4), "RGBA").save(os.path.join(out, "alpha.png"))
rgb.convert("P", palette=Image.ADAPTIVE, colors=16).save(os.path.join(out, "palette.png"))

for name in ["rgb.jpg", "gray.jpg", "progressive.jpg"]:
    im = Image.open(os.path.join(out, name))
    golden[name] = {"shape": [len(im.getbands()), im.height, im.width], "pixels": flat(np.asarray(im))}
for name in ["alpha.png", "palette.png"]:
    im = Image.open(os.path.join(out, name)).convert("RGB")
    golden[name] = {"shape": [3, im.height, im.width], "pixels": flat(np.asarray(im))}

decoded = Image.open(os.path.join(out, "rgb.jpg"))
golden["rgb.jpg gray"] = {"shape": [1, 30, 40], "pixels": flat(np.asarray(decoded.convert("L")))}
x = torch.from_numpy(np.asarray(decoded).copy()).permute(2, 0, 1)[None].float()
for h, w in [(12, 16), (37, 50), (28, 28)]:
    y = F.interpolate(x, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
    golden[f"rgb.jpg resized {w}x{h}"] = {"shape": [3, h, w], "pixels": y.round().clamp(0, 255)[0].to(torch.uint8).reshape(-1).tolist()}

with open(os.path.join(out, "images_golden.json"), "w") as f:
    json.dump(golden, f, separators=(",", ":"))
print("wrote", sorted(os.listdir(out)))
