#!/usr/bin/env python3
"""pycocoevalcap's BLEU / ROUGE-L / CIDEr-D wall time on bench_eval's synthetic data.

    build-xxx/bench/bench_eval --write_json=/tmp/eval_bench.json
    python3 bench/eval_pycocoevalcap.py /tmp/eval_bench.json [--repeat 3]

Prints, per scorer, the best of --repeat runs as wall time and as CPU time of this process
(comparable with bench_eval's Time and CPU columns) and the corpus score (comparable with its
counters), on the same captions.
"""
import argparse
import json
import time

from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.rouge.rouge import Rouge


def best_time(fn, repeat):
    wall, cpu, value = float("inf"), float("inf"), None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        value = fn()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu, value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with open(args.data) as f:
        d = json.load(f)
    keys = sorted(d["refs"])
    gts = {k: d["refs"][k] for k in keys}
    res = {k: d["results"][k] for k in keys}
    print(f"{len(keys)} images, {sum(len(v) for v in gts.values())} references")

    total, total_cpu = 0.0, 0.0
    for name, scorer in [("BLEU", lambda: Bleu(4).compute_score(gts, res, verbose=0)),
                         ("ROUGE-L", lambda: Rouge().compute_score(gts, res)),
                         ("CIDEr-D", lambda: Cider().compute_score(gts, res))]:
        wall, cpu, (score, _) = best_time(scorer, args.repeat)
        total += wall
        total_cpu += cpu
        print(f"{name:8s} wall {wall * 1000:9.1f} ms  cpu {cpu * 1000:9.1f} ms   score {score}")
    print(f"{'all':8s} wall {total * 1000:9.1f} ms  cpu {total_cpu * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
