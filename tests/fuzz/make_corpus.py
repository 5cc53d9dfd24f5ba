#!/usr/bin/env python3
"""Builds the seed corpora corpus/{npy,safetensors,image}/ from the test fixtures plus a few
extra encodings (Pillow, numpy, safetensors). Re-run only to regenerate the seeds."""
import glob
import hashlib
import io
import os
import shutil

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "databin")


def put(kind, data):
    """Stores data as corpus/<kind>/<sha1>, libFuzzer's naming."""
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def npy_bytes(arr, version=None):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, version=version)
    return buf.getvalue()


def main():
    for kind in ("npy", "safetensors", "image"):
        shutil.rmtree(os.path.join(HERE, "corpus", kind), ignore_errors=True)
    for pattern, kind in (("npy/*.npy", "npy"), ("safetensors/*.safetensors", "safetensors"),
                          ("images/*", "image")):
        for path in sorted(glob.glob(os.path.join(FIXTURES, pattern))):
            with open(path, "rb") as f:
                put(kind, f.read())

    put("npy", npy_bytes(np.arange(24, dtype="<u2").reshape(2, 3, 4), version=(2, 0)))
    put("npy", npy_bytes(np.zeros((3, 0, 2), dtype="|i1")))
    put("npy", npy_bytes(np.array([[True]])))

    from safetensors.numpy import save
    put("safetensors", save({"a": np.ones((2, 2), dtype="<f4"), "b": np.array([1], dtype="<i8")},
                            metadata={"k": "v"}))
    put("safetensors", save({"z": np.zeros((0,), dtype="<f8"), "s": np.array(1.0, dtype="<f2")}))

    rgb = Image.new("RGB", (9, 6))
    rgb.putdata([(x * 28, y * 40, (x * y * 5) % 256) for y in range(6) for x in range(9)])

    def encoded(img, fmt, **kw):
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        return buf.getvalue()

    put("image", encoded(rgb, "JPEG", quality=80))                        # 4:2:0
    put("image", encoded(rgb, "JPEG", quality=80, subsampling=1))         # 4:2:2
    put("image", encoded(rgb.convert("CMYK"), "JPEG", quality=90))        # Adobe CMYK
    put("image", encoded(rgb, "JPEG", quality=70, progressive=True, restart_marker_blocks=1))
    put("image", encoded(rgb.convert("RGBA"), "BMP"))                     # 32-bit BMP
    put("image", encoded(rgb.convert("1"), "BMP"))                        # 1-bit BMP
    put("image", encoded(rgb.convert("P", palette=Image.ADAPTIVE, colors=4), "PNG"))  # 2-bit
    put("image", encoded(rgb.convert("I;16"), "PNG"))                     # 16-bit gray
    for kind in ("npy", "safetensors", "image"):
        print(kind, len(os.listdir(os.path.join(HERE, "corpus", kind))), "seeds")


if __name__ == "__main__":
    main()
