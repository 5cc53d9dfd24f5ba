// The batched beam search step on the GPU (kernels/beam.h; the CPU reference is
// kernels/cpu/beam_step.cpp). Stage 1, one 256-thread block per row: the row's max and sum of
// e^(x - max) (fast_exp, the CPU kernel's formula; an online state per thread in the logits' type,
// merged in f64 by kernels/cuda/rows.cuh, the reduction the softmax and loss kernels share),
// then every thread keeps its best `keep` words of its strided share in a sorted local list and
// the block merges the lists `keep` times by a (score, word) arg-max, so the row's candidates come
// out in the candidate order of kernels/common/beam.h. Trigram blocking: thread 0 walks the row's
// back-pointers into shared memory and lists the words that would repeat a trigram. Stage 2, one
// thread per image, and the result are the shared per-image functions of kernels/common/beam.h.
// Nothing here blocks the host; the state stays on the device until beam_search_result's copy.
#include <cmath>
#include <cstdint>

#include "kernels/beam.h"
#include "kernels/common/beam.h"
#include "kernels/common/fast_math.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/rows.cuh"

namespace mrnn::cuda {

namespace {

constexpr int kBeamThreads = 256;
constexpr int64_t kNoKey = INT64_MAX;  // "no candidate": ranks after every real one

// (score, key) pair with the candidate order of kernels/common/beam.h.
struct Cand {
  double s;
  int64_t k;
};

__device__ __forceinline__ Cand better(Cand a, Cand b) { return beam::ranks_before(b.s, b.k, a.s, a.k) ? b : a; }

__device__ __forceinline__ Cand warp_best(Cand c) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const Cand w{__shfl_xor_sync(0xffffffffu, c.s, o), __shfl_xor_sync(0xffffffffu, c.k, o)};
    c = better(c, w);
  }
  return c;
}

// The block's best pair, in every thread. Uses shm[0..32]; every thread must call it.
__device__ Cand block_best(Cand c, Cand* shm) {
  c = warp_best(c);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  if (lane == 0) shm[warp] = c;
  __syncthreads();
  c = lane < nwarps ? shm[lane] : Cand{-INFINITY, kNoKey};
  c = warp_best(c);
  __syncthreads();  // shm is reused by the next call
  return c;
}

// Stage 1 for row blockIdx.x. Dynamic shared memory: 2 * (t + 1) int64 (sequence, blocked words).
template <typename T, int CAP>
__global__ void beam_rows_kernel(const T* logits, int64_t V, const double* logp, const int64_t* ctl,
                                 const int64_t* hist_word, const int64_t* hist_parent, int64_t R, int64_t t,
                                 bool must_end, bool block_trigrams, beam::Tokens tk, int keep, double* cand_score,
                                 int64_t* cand_word, int64_t* cand_n) {
  extern __shared__ int64_t seq_shm[];
  __shared__ double red_m[32], red_s[32];
  __shared__ Cand red_c[32];
  __shared__ int s_nb;
  const int64_t r = blockIdx.x;
  if (ctl[1]) return;  // stopped: uniform over the block
  const double lp = logp[r];
  if (!beam::is_live(lp)) {
    if (threadIdx.x == 0) cand_n[r] = 0;
    return;
  }
  const T* x = logits + r * V;
  // The row's log-sum-exp: an online (max, sum of e^(x - max)) state per thread in T, merged over
  // the block in f64 (kernels/cuda/rows.cuh).
  LseState<T> part = lse_empty<T>();
  for (int64_t j = threadIdx.x; j < V; j += blockDim.x) lse_push<FastExp>(part, x[j]);
  const LseState<double> st = row_lse<FastExp>(
      LseState<double>{static_cast<double>(part.m), static_cast<double>(part.s)}, red_m, red_s);
  const double base = lp - (st.m + std::log(st.s));
  double* out_s = cand_score + r * keep;
  int64_t* out_w = cand_word + r * keep;
  if (must_end) {
    if (threadIdx.x == 0) {
      out_s[0] = base + static_cast<double>(x[tk.eos]);
      out_w[0] = tk.eos;
      cand_n[r] = 1;
    }
    return;
  }
  int64_t* seq = seq_shm;
  int64_t* blocked = seq_shm + t + 1;
  if (threadIdx.x == 0) {
    s_nb = 0;
    if (block_trigrams && t >= 3) {
      beam::trace_back(hist_word, hist_parent, R, t - 1, r, seq);
      s_nb = beam::blocked_words(seq, t, blocked);
    }
  }
  __syncthreads();
  const int nb = s_nb;
  double ls[CAP];
  int64_t lk[CAP];
  int n = 0;
  double cut_s = 0;  // the list's last entry once it is full, kept in registers
  int64_t cut_k = 0;
  for (int64_t v = tk.first_word + threadIdx.x; v < V; v += blockDim.x) {
    const double sc = base + static_cast<double>(x[v]);
    if (n == keep && !beam::ranks_before(sc, v, cut_s, cut_k)) continue;
    if (!beam::is_candidate(v, tk)) continue;
    if (nb && v != tk.eos && beam::contains(blocked, nb, v)) continue;
    beam::top_insert(ls, lk, n, keep, sc, v);
    if (n == keep) {
      cut_s = ls[n - 1];
      cut_k = lk[n - 1];
    }
  }
  // Merge: `keep` rounds of a block arg-max over the threads' list heads.
  int head = 0, count = 0;
  for (int i = 0; i < keep; ++i) {
    const Cand mine = head < n ? Cand{ls[head], lk[head]} : Cand{-INFINITY, kNoKey};
    const Cand best = block_best(mine, red_c);
    if (best.k == kNoKey) break;  // uniform: every thread sees the same pair
    if (mine.k == best.k) ++head;  // words are unique to one thread
    if (threadIdx.x == 0) {
      out_s[i] = best.s;
      out_w[i] = best.k;
    }
    ++count;
  }
  if (threadIdx.x == 0) cand_n[r] = count;
}

__global__ void beam_images_kernel(beam::ImageStep a, int64_t images, const int64_t* ctl_ro, int64_t* any_live) {
  const int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= images || ctl_ro[1]) return;
  int64_t head[beam::kMaxBeam];  // beam_search_init keeps the beam <= kMaxBeam on a GPU
  if (beam::image_step(a, b, head) > 0) atomicExch(reinterpret_cast<unsigned long long*>(any_live), 1ull);
}

__global__ void beam_commit_kernel(const double* new_logp, const int64_t* new_ids, double* logp, int64_t* ids,
                                   int64_t* ctl, int64_t R, int64_t t) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= R) return;
  if (!ctl[2]) {  // nothing live: stop (ctl[2] is only read here, ctl[0..1] only written by row 0)
    if (r == 0) ctl[1] = 1;
    return;
  }
  logp[r] = new_logp[r];
  ids[r] = new_ids[r];
  if (r == 0) ctl[0] = t + 1;
}

__global__ void beam_result_kernel(int64_t images, int64_t K, int64_t width, double alpha, const int64_t* ctl,
                                   const double* logp, const double* img_f, const int64_t* img_i,
                                   const int64_t* hist_word, const int64_t* hist_parent, double* out) {
  const int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= images) return;
  beam::image_result(b, K, images * K, alpha, ctl, logp, img_f, img_i, hist_word, hist_parent, out + b * width);
}

unsigned blocks_for(int64_t n) { return grid_dim((n + kThreads - 1) / kThreads, "beam search"); }

}  // namespace

void beam_rows(const BeamSearch& s, const Tensor& logits, int64_t t) {
  const char* op = "beam_rows";
  common_device(op, {&logits, &s.logp, &s.cand_score});
  Launch l(logits);
  const int64_t R = s.images * s.beam, V = logits.size(1);
  // The row's words and its blocked words, only when trigrams are blocked.
  const size_t shm = s.block_trigrams ? 2 * static_cast<size_t>(t + 1) * sizeof(int64_t) : 0;
  MRNN_CHECK(shm <= 40 * 1024, "cuda::{}: trigram blocking on the GPU supports captions up to 2559 words, got step {}",
             op, t);
  dispatch_float(logits.dtype(), op, [&](auto z) {
    using T = decltype(z);
    auto launch = [&](auto kernel) {
      kernel<<<grid_dim(R, "beam rows"), kBeamThreads, shm, l.stream>>>(
          ptr<T>(logits), V, ptr<double>(s.logp), ptr<int64_t>(s.ctl), ptr<int64_t>(s.hist_word),
          ptr<int64_t>(s.hist_parent), R, t, t == s.max_length, s.block_trigrams, s.tokens, static_cast<int>(s.keep),
          ptr<double>(s.cand_score), ptr<int64_t>(s.cand_word), ptr<int64_t>(s.cand_n));
      MRNN_CUDA_CHECK_LAUNCH(op, l.stream);
    };
    // A small local list for the usual beams (K <= 4), the full one otherwise.
    if (s.keep <= 8) launch(beam_rows_kernel<T, 8>);
    else launch(beam_rows_kernel<T, beam::kMaxKeep>);
  });
}

void beam_images(const BeamSearch& s, int64_t t) {
  const char* op = "beam_images";
  common_device(op, {&s.logp, &s.img_i, &s.ctl});
  Launch l(s.logp);
  const int64_t R = s.images * s.beam;
  MRNN_CUDA_CHECK(cudaMemsetAsync(ptr<int64_t>(s.ctl) + 2, 0, sizeof(int64_t), l.stream));
  beam::ImageStep a{};
  a.beam = s.beam;
  a.keep = s.keep;
  a.vocab = int64_t{1} << 40;  // as on the CPU: only orders (beam, word)
  a.t = t;
  a.alpha = s.length_penalty;
  a.eos = s.tokens.eos;
  a.cand_score = ptr<double>(s.cand_score);
  a.cand_word = ptr<int64_t>(s.cand_word);
  a.cand_n = ptr<int64_t>(s.cand_n);
  a.new_logp = ptr<double>(s.new_logp);
  a.new_ids = ptr<int64_t>(s.new_ids);
  a.rows = ptr<int64_t>(s.rows);
  a.hist_word = ptr<int64_t>(s.hist_word) + t * R;
  a.hist_parent = ptr<int64_t>(s.hist_parent) + t * R;
  a.img_f = ptr<double>(s.img_f);
  a.img_i = ptr<int64_t>(s.img_i);
  int64_t* ctl = ptr<int64_t>(s.ctl);
  beam_images_kernel<<<blocks_for(s.images), kThreads, 0, l.stream>>>(a, s.images, ctl, ctl + 2);
  MRNN_CUDA_CHECK_LAUNCH(op, l.stream);
}

void beam_commit(const BeamSearch& s, int64_t t) {
  const char* op = "beam_commit";
  common_device(op, {&s.logp, &s.new_logp, &s.ctl});
  Launch l(s.logp);
  const int64_t R = s.images * s.beam;
  beam_commit_kernel<<<blocks_for(R), kThreads, 0, l.stream>>>(ptr<double>(s.new_logp), ptr<int64_t>(s.new_ids),
                                                                ptr<double>(s.logp), ptr<int64_t>(s.ids),
                                                                ptr<int64_t>(s.ctl), R, t);
  MRNN_CUDA_CHECK_LAUNCH(op, l.stream);
}

void beam_result(const BeamSearch& s, const Tensor& out) {
  const char* op = "beam_result";
  common_device(op, {&s.logp, &out});
  Launch l(out);
  beam_result_kernel<<<blocks_for(s.images), kThreads, 0, l.stream>>>(
      s.images, s.beam, 3 + s.max_length, s.length_penalty, ptr<int64_t>(s.ctl), ptr<double>(s.logp),
      ptr<double>(s.img_f), ptr<int64_t>(s.img_i), ptr<int64_t>(s.hist_word), ptr<int64_t>(s.hist_parent),
      ptr<double>(out));
  MRNN_CUDA_CHECK_LAUNCH(op, l.stream);
}

}  // namespace mrnn::cuda
