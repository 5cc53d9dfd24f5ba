#!/usr/bin/env python3
"""Writes bench/data/coco_like_640x480.jpg: a 640x480 baseline JPEG (quality 90, 4:2:0) with the
size and roughly the detail of a COCO photo (gradients, overlapping shapes, per-pixel noise), for
bench_data's JPEG decoding case. Deterministic for a given Pillow/libjpeg (made with Pillow 13.0).
    python3 bench/data/make_coco_like_jpeg.py
"""
import os
import random

from PIL import Image, ImageDraw

W, H = 640, 480
rng = random.Random(20261128)
img = Image.new("RGB", (W, H))
px = img.load()
for y in range(H):
    for x in range(W):
        n = rng.randint(-18, 18)
        px[x, y] = (max(0, min(255, 60 + x * 150 // W + n)),
                    max(0, min(255, 90 + y * 120 // H + n)),
                    max(0, min(255, 170 - (x + y) * 100 // (W + H) + n)))
draw = ImageDraw.Draw(img)
for _ in range(40):
    x0, y0 = rng.randrange(W), rng.randrange(H)
    x1, y1 = x0 + rng.randint(20, 200), y0 + rng.randint(20, 160)
    colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=colour)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "coco_like_640x480.jpg")
img.save(out, "JPEG", quality=90, subsampling=2)
print(out, os.path.getsize(out), "bytes")
