#!/usr/bin/python3
"""Ours vs PyTorch on the same m-RNN, sizes, batch, threads and data (issue 5's bench config).

Builds the m-RNN of bench/bench_train.cpp in PyTorch (Debian's python3-torch): vocabulary 10k,
batch 64, 16 time steps, 4096-d image features, embeddings 128/256, ReLU RNN 256 (torch.nn.RNN,
PyTorch's fastest CPU recurrent path), multimodal 512 with the scaled tanh, untied output layer,
dropout 0.25, Adam with gradient clipping at 5. Measures training words/s, greedy and beam-3
decoding images/s (exactly 16 words plus the final step that scores <eos>, which is made
unreachable before it in both), and the peak resident
memory above the set-up state; runs bench_train for the same numbers of ours; prints the ratios.

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=2 \
      /usr/bin/python3 bench/compare_pytorch.py --bench build/bench/bench_train
(the development machines set the two OPENBLAS_ variables, which force an older OpenBLAS kernel on
both sides; a user's machine does not). Also scores retrieval: log P(S | I) of 5,000 sentences
against 2 images, both sides in blocks of sentences. The same run measures OpenBLAS's sgemm rate
(bench_kernels' BM_sgemm_reference, [1024, 512] x [512, 10000]) and prints every rate as a
fraction of its FLOP-bound limit at that rate. Two rows show our before/after in the same run:
training with OpenBLAS for every GEMM (MRNN_SGEMM=openblas, kernels/gemm_backend.h) and decoding
with the output matrix not packed once (bench_train's BM_decode/*/2).
Python is only the reference here: nothing in the library, examples or tests depends on it.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

V, B, T, FEAT = 10000, 64, 16, 4096
E1, E2, R, M = 128, 256, 256, 512
BOS, EOS = 2, 3
CLOCK = time.perf_counter  # --cpu-time switches both sides to process CPU time


def reset_hwm():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def status_mb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024.0
    return 0.0


class MRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, E1)
        self.embed2 = nn.Linear(E1, E2)
        self.rnn = nn.RNN(E2, R, nonlinearity="relu", batch_first=True)
        self.Vw = nn.Linear(E2, M, bias=False)
        self.Vr = nn.Linear(R, M, bias=False)
        self.Vi = nn.Linear(FEAT, M)
        self.out = nn.Linear(M, V)
        self.drop = nn.Dropout(0.25)

    def multimodal(self, w, r, img_term):
        return 1.7159 * torch.tanh((2.0 / 3.0) * (self.Vw(w) + self.Vr(r) + img_term))

    def loss(self, tokens, feats):
        inp, tgt = tokens[:, :-1], tokens[:, 1:]
        w = F.relu(self.embed2(self.embed(inp)))
        r, _ = self.rnn(w)
        img = self.Vi(self.drop(feats)).unsqueeze(1)  # once per image, broadcast over time
        m = self.drop(self.multimodal(w, r, img))
        logits = self.out(m)
        return F.cross_entropy(logits.reshape(-1, V), tgt.reshape(-1))

    def step(self, ids, h, img_term):
        w = F.relu(self.embed2(self.embed(ids)))
        _, h = self.rnn(w.unsqueeze(1), h)
        m = self.multimodal(w, h[0], img_term)
        return F.log_softmax(self.out(m), dim=-1), h


def bench_train(iters):
    torch.manual_seed(1)
    model = MRNN().train()
    feats = torch.randn(B, FEAT)
    tokens = torch.randint(4, V, (B, T + 1))
    tokens[:, 0] = BOS
    rss0 = status_mb("VmRSS:")  # model and inputs in memory; everything training adds counts
    reset_hwm()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)  # the usual loop, as ours: gradients freed before the forward pass
        loss = model.loss(tokens, feats)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return loss.item()

    step()
    t0 = CLOCK()
    for _ in range(iters):
        step()
    dt = (CLOCK() - t0) / iters
    return {"words/s": B * T / dt, "ms": dt * 1e3, "peak_MB": status_mb("VmHWM:") - rss0}


@torch.no_grad()
def decode(model, feats, beam):
    img = model.Vi(feats)  # [B, M]
    n = feats.shape[0]
    if beam == 1:
        ids = torch.full((n,), BOS, dtype=torch.long)
        h = torch.zeros(1, n, R)
        out = []
        for _ in range(T + 1):  # 16 words, then the step that scores <eos>
            logp, h = model.step(ids, h, img)
            ids = logp.argmax(-1)
            out.append(ids)
        return torch.stack(out, 1)
    # Batched beam search: all images x beams as one batch of rows per step.
    k = beam
    img_k = img.repeat_interleave(k, 0)
    ids = torch.full((n * k,), BOS, dtype=torch.long)
    h = torch.zeros(1, n * k, R)
    scores = torch.full((n, k), float("-inf"))
    scores[:, 0] = 0.0
    hist = torch.zeros(n * k, 0, dtype=torch.long)
    for _ in range(T + 1):
        logp, h = model.step(ids, h, img_k)
        cand = (scores.reshape(n * k, 1) + logp).reshape(n, k * V)
        scores, flat = cand.topk(k, dim=1)
        src = (flat // V) + torch.arange(n).unsqueeze(1) * k
        ids = (flat % V).reshape(-1)
        src = src.reshape(-1)
        h = h[:, src]
        hist = torch.cat([hist[src], ids.unsqueeze(1)], 1)
    return hist.reshape(n, k, -1)[:, 0]


def bench_decode(beam, iters, bf16=False):
    torch.manual_seed(2)
    model = MRNN().eval()
    with torch.no_grad():
        model.out.bias[EOS] = -1e4
    feats = torch.randn(B, FEAT)
    rss0 = status_mb("VmRSS:")
    reset_hwm()
    # bf16: PyTorch's CPU autocast (its linear layers in bf16 through oneDNN, fp32 accumulation)
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else torch.autocast("cpu", enabled=False)
    with ctx:
        decode(model, feats, beam)
    t0 = CLOCK()
    for _ in range(iters):
        with ctx:
            decode(model, feats, beam)
    dt = (CLOCK() - t0) / iters
    return {"images/s": B / dt, "ms": dt * 1e3, "peak_MB": status_mb("VmHWM:") - rss0}


RET_S, RET_N, RET_BLOCK = 5000, 2, 512  # retrieval: sentences, images, sentences per block


@torch.no_grad()
def bench_retrieval():
    torch.manual_seed(3)
    model = MRNN().eval()
    feats = torch.randn(RET_N, FEAT)
    tokens = torch.randint(4, V, (RET_S, T + 2))
    tokens[:, 0] = BOS
    tokens[:, -1] = EOS
    rss0 = status_mb("VmRSS:")
    reset_hwm()
    t0 = CLOCK()
    img = model.Vi(feats)  # [N, M]
    scores = torch.empty(RET_N, RET_S, dtype=torch.float64)
    for s0 in range(0, RET_S, RET_BLOCK):
        blk = tokens[s0:s0 + RET_BLOCK]
        inp, tgt = blk[:, :-1], blk[:, 1:]
        w = F.relu(model.embed2(model.embed(inp)))
        r, _ = model.rnn(w)
        text = model.Vw(w) + model.Vr(r)  # the image-free part, once per block
        for i in range(RET_N):
            m = 1.7159 * torch.tanh((2.0 / 3.0) * (text + img[i]))
            lp = F.log_softmax(model.out(m), dim=-1).gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
            scores[i, s0:s0 + RET_BLOCK] = lp.sum(1).double()
    dt = CLOCK() - t0
    return {"images/s": RET_N / dt, "peak_MB": status_mb("VmHWM:") - rss0}


def flops_per_word():  # bench_train.cpp's count: forward + backward (x3), untied output
    fwd = 2.0 * (E1 * E2 + R * R + (E2 + R) * M) + 2.0 * FEAT * M / T + 2.0 * M * V
    return 3 * fwd


def flops_per_decoded_image(beam):  # 17 steps (16 words + the <eos> step) of beam rows
    step = 2.0 * (E1 * E2 + R * R + (E2 + R) * M + M * V)
    return beam * (T + 1) * step + 2.0 * FEAT * M


def flops_per_retrieval_image():  # the output GEMMs per image, plus the language half shared by all
    rows = RET_S * (T + 1)
    return 2.0 * rows * M * V + 2.0 * rows * (E1 * E2 + R * R + (E2 + R) * M) / RET_N


def sgemm_gflops(kernels, min_time):
    if kernels and os.path.exists(kernels):
        res = subprocess.run([kernels, "--benchmark_filter=BM_sgemm_reference", "--benchmark_format=json",
                              f"--benchmark_min_time={min_time}"], capture_output=True, text=True, check=True)
        return json.loads(res.stdout)["benchmarks"][0]["GFLOP/s"], "OpenBLAS sgemm (bench_kernels)"
    a, b = torch.randn(1024, 512), torch.randn(10000, 512)
    a @ b.T
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < min_time:
        a @ b.T
        n += 1
    return 2.0 * 1024 * 512 * 10000 * n / (time.perf_counter() - t0) / 1e9, "torch.mm (bench_kernels not found)"


def ours(bench, flt, min_time, extra_env=None):
    env = dict(os.environ)
    env.update(extra_env or {})
    cmd = [bench, f"--benchmark_filter={flt}", "--benchmark_format=json", f"--benchmark_min_time={min_time}"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    b = json.loads(res.stdout)["benchmarks"][0]
    if CLOCK is time.process_time:  # rates from CPU time instead of wall time
        k = b["real_time"] / b["cpu_time"]
        for key in ("words/s", "images/s"):
            if key in b:
                b[key] *= k
    return b


def main():
    # Peak memory is read from the kernel (VmHWM), so both sides must hand freed memory back to it:
    # a fixed mmap threshold stops glibc from keeping large freed blocks in the heap (its default
    # raises the threshold after the first large free). Re-exec once with it set; children inherit it.
    if os.environ.get("MALLOC_MMAP_THRESHOLD_") != "131072":
        os.environ["MALLOC_MMAP_THRESHOLD_"] = "131072"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default="build/bench/bench_train", help="our bench_train binary")
    ap.add_argument("--kernels", default="build/bench/bench_kernels", help="bench_kernels, for the sgemm rate")
    ap.add_argument("--iters", type=int, default=10, help="timed PyTorch iterations per case")
    ap.add_argument("--min-time", type=float, default=2.0, help="--benchmark_min_time for ours")
    ap.add_argument("--json", help="also write the table here")
    ap.add_argument("--cpu-time", action="store_true",
                    help="rates from process CPU time, not wall time: for 1-thread runs on a busy machine")
    a = ap.parse_args()
    if a.cpu_time:
        global CLOCK
        CLOCK = time.process_time
    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    torch.set_num_threads(threads)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            print(f"warning: {var}={os.environ[var]} is set: OpenBLAS (ours and PyTorch's) runs an older kernel "
                  "than on a user's machine; run under `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`", file=sys.stderr)
    rows = []  # (name, ours, pytorch, FLOPs per unit or None for memory)
    gflops, gemm_src = sgemm_gflops(a.kernels, a.min_time)
    pt = bench_train(a.iters)
    us = ours(a.bench, "BM_train_step/0", a.min_time)
    rows.append(("train words/s (untied)", us["words/s"], pt["words/s"], flops_per_word()))
    rows.append(("train peak MB above model+data", us["peak_MB"], pt["peak_MB"], None))
    ub = ours(a.bench, "BM_train_step/0", a.min_time, {"MRNN_SGEMM": "openblas"})  # before the per-shape choice
    rows.append(("train words/s, OpenBLAS for every GEMM", ub["words/s"], pt["words/s"], flops_per_word()))
    for beam, name in ((1, "greedy"), (3, "beam 3")):
        pd = bench_decode(beam, a.iters)
        ud = ours(a.bench, f"BM_decode/{beam}/0/", a.min_time)
        rows.append((f"decode {name} images/s", ud["images/s"], pd["images/s"], flops_per_decoded_image(beam)))
        rows.append((f"decode {name} peak MB", ud["peak_MB"], pd["peak_MB"], None))
        uu = ours(a.bench, f"BM_decode/{beam}/2/", a.min_time)  # the output matrix not packed once
        rows.append((f"decode {name} images/s, unpacked", uu["images/s"], pd["images/s"], flops_per_decoded_image(beam)))
    for beam, name in ((1, "greedy"), (3, "beam 3")):  # bf16: ours packed, PyTorch autocast
        ub = ours(a.bench, f"BM_decode/{beam}/1/", a.min_time)
        if "error_message" in ub:
            print(f"bf16 decoding skipped: {ub['error_message']}", file=sys.stderr)
            continue
        pb = bench_decode(beam, a.iters, bf16=True)
        rows.append((f"decode {name} bf16 images/s", ub["images/s"], pb["images/s"], None))
    pr = bench_retrieval()
    ur = ours(a.bench, f"BM_retrieval/{RET_N}", a.min_time)
    rows.append((f"retrieval images/s ({RET_S} sentences)", ur["images/s"], pr["images/s"], flops_per_retrieval_image()))
    rows.append(("retrieval peak MB", ur["peak_MB"], pr["peak_MB"], None))
    gflops_after, _ = sgemm_gflops(a.kernels, a.min_time)
    print(f"torch {torch.__version__}, {threads} threads, {'CPU' if a.cpu_time else 'wall'} time; ratio = ours / PyTorch "
          "(higher is better for rates, lower for memory)")
    print(f"sgemm rate this run: {gflops:.0f} GFLOP/s before, {gflops_after:.0f} after ({gemm_src}); "
          "limit = that rate / FLOPs per unit; % = rate / limit")
    print(f"{'metric':38} {'ours':>10} {'PyTorch':>10} {'ratio':>6} {'limit':>9} {'ours %':>7} {'PT %':>6}")
    out = []
    for name, u, p, fl in rows:
        ratio = u / p if p else float("nan")
        row = {"metric": name, "ours": u, "pytorch": p, "ratio": ratio}
        if fl:
            limit = gflops * 1e9 / fl
            row.update(limit=limit, ours_fraction=u / limit, pytorch_fraction=p / limit)
            print(f"{name:38} {u:10.4g} {p:10.4g} {ratio:6.2f} {limit:9.4g} {100 * u / limit:6.1f}% {100 * p / limit:5.1f}%")
        else:
            print(f"{name:38} {u:10.4g} {p:10.4g} {ratio:6.2f}")
        out.append(row)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"torch": torch.__version__, "threads": threads, "sgemm_gflops": gflops,
                       "sgemm_gflops_after": gflops_after, "rows": out}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
