// The communicator of data-parallel training (docs/distributed.md): which rank this process is, how
// many there are, a non-blocking in-place sum of float buffers across ranks (the gradient buckets)
// and a small all-gather with a deadline that names the ranks that did not answer.
// Why an interface: the Trainer is the same code for one process (LocalComm: nothing to send) and
// for N processes under mpirun (MPI, models/engine/comm_mpi.cpp); a GPU backend (NCCL) fits the
// same shape.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mrnn {

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "local" | "mpi"

  // Requires: data holds n floats, the same n on every rank, and stays alive and untouched until
  // the request is done; every rank starts its sums in the same order.
  // Ensures: a request id; when wait()/test() says it is done, data holds the element-wise sum over
  // all ranks, the same bits on every rank, and the same bits when the run is repeated with the
  // same world size (the reduction order depends only on the world size and n).
  virtual int64_t start_sum(float* data, int64_t n) = 0;
  // Lets outstanding operations progress (MPI progresses only inside its calls). True when done.
  virtual bool test(int64_t request) = 0;
  // Blocks until the request is done. Throws Error naming `what` and the timeout when it is not
  // done within timeout_s seconds (a rank died or hangs).
  virtual void wait(int64_t request, double timeout_s, const std::string& what) = 0;

  // Every rank's `mine`, in rank order, on every rank (small payloads: counts, states, checksums).
  // Throws Error after timeout_s naming `what` and the ranks that did not arrive (rank 0 waits for
  // the others; the others wait a little longer for rank 0, so that rank 0 reports the culprit).
  virtual std::vector<std::string> all_gather(const std::string& mine, double timeout_s,
                                              const std::string& what) = 0;

  // Ends the whole job now with exit code `code` (every rank), e.g. after an error on one rank.
  [[noreturn]] virtual void abort(int code) = 0;
};

// One process: rank 0 of 1; sums are the identity.
std::unique_ptr<Comm> make_local_comm();

// The process's communicator, made on first use: MPI when the process was launched by an MPI
// launcher (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK in the environment) with more than one
// rank, else LocalComm (plain runs are unchanged). Throws Error when launched as one of several
// ranks by a build without MPI (they would overwrite each other's output).
Comm& world_comm();

// The GPU communicator: sums CUDA device buffers with NCCL on a stream of its own (start_sum takes
// device pointers), one GPU (`device`) per rank, the NCCL id shared over `bootstrap` (which also
// carries all_gather); bootstrap outlives it. Throws Error when mrnn was built without NCCL
// (nccl_built() is false) or NCCL cannot start. The Trainer does not use it yet: training runs on
// the CPU in this version (docs/distributed.md).
bool nccl_built();
std::unique_ptr<Comm> make_nccl_comm(Comm& bootstrap, int device);

// A data-parallel map over chunks 0..n-1 (validation): rank r computes the chunks c with
// c % size == r; every rank gets every chunk's result, in chunk order. One process computes all.
// Why chunks: a chunk is computed exactly as one process computes it, so merging the results in
// chunk order gives one process's numbers bit for bit.
std::vector<std::string> map_chunks(Comm& comm, int64_t n, const std::function<std::string(int64_t chunk)>& compute,
                                    double timeout_s, const std::string& what);

// Doubles to and from all_gather payloads.
std::string pack_doubles(const std::vector<double>& v);
std::vector<double> unpack_doubles(const std::string& bytes);

}  // namespace mrnn
