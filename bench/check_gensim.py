#!/usr/bin/env python3
"""Checks that embed_export's word2vec text file loads in gensim and agrees with the .npy export.

Not a test dependency (gensim may not be installed). Usage:
    python3 bench/check_gensim.py EXPORT_DIR [WORD ...]
where EXPORT_DIR holds embeddings.txt, embeddings.npy and words.txt (embed_export --out EXPORT_DIR).
Prints the vocabulary size and dimension gensim read, the largest difference from the .npy, and the
nearest words gensim finds for each WORD (compare with embed_neighbors).
"""
import sys

try:
    import numpy as np
    from gensim.models import KeyedVectors
except ImportError as e:  # pragma: no cover
    sys.exit(f"check_gensim: {e}; install gensim (pip install gensim) to run this check")


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    d = sys.argv[1]
    kv = KeyedVectors.load_word2vec_format(f"{d}/embeddings.txt", binary=False)
    table = np.load(f"{d}/embeddings.npy")
    words = [w.rstrip("\n") for w in open(f"{d}/words.txt", encoding="utf-8")]
    assert table.shape == (len(words), kv.vector_size), (table.shape, len(words), kv.vector_size)
    assert list(kv.index_to_key) == words, "word order differs between embeddings.txt and words.txt"
    diff = float(np.abs(kv.vectors - table).max())
    print(f"gensim read {len(kv.index_to_key)} words x {kv.vector_size}; max |gensim - npy| = {diff:g}")
    if diff != 0.0:
        print("check_gensim: the text and .npy exports differ", file=sys.stderr)
        return 1
    for w in sys.argv[2:]:
        print(w + ": " + " ".join(f"{n} {s:.4f}" for n, s in kv.most_similar(w, topn=5)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
