#!/usr/bin/env python3
"""PyTorch + cuDNN on the GPU: training words/s of the m-RNN that bench_train's
BM_train_step_cuda/0 times (bench/compare_pytorch.py's MRNN: vocabulary 10k, batch 64, 16 steps,
4096-d features, untied output, dropout 0.25, Adam with gradient clipping at 5), for
scripts/gpu-check's table. Prints one JSON line: {"words/s": ..., "ms": ..., "device": ...}.

  python3 bench/torch_train_cuda.py [--iters 50]

A reference only: nothing in the library, examples or tests depends on Python.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_pytorch import MRNN, B, T, V, FEAT, BOS  # noqa: E402  (the same model)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=50)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("torch_train_cuda: torch sees no CUDA device")
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False  # the same f32 arithmetic as ours by default
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(1)
    model = MRNN().to(dev).train()
    feats = torch.randn(B, FEAT, device=dev)
    tokens = torch.randint(4, V, (B, T + 1), device=dev)
    tokens[:, 0] = BOS
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        loss = model.loss(tokens, feats)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return loss.item()  # waits for the step, as ours does

    for _ in range(5):
        step()
    t0 = time.perf_counter()
    for _ in range(args.iters):
        step()
    dt = (time.perf_counter() - t0) / args.iters
    print(json.dumps({"words/s": B * T / dt, "ms": dt * 1e3, "device": torch.cuda.get_device_name(0),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
