#include "models/engine/comm.h"

#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace mrnn {

#if MRNN_WITH_MPI
std::unique_ptr<Comm> make_mpi_comm();  // models/engine/comm_mpi.cpp
#endif

namespace {

class LocalComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "local"; }
  int64_t start_sum(float*, int64_t n) override {
    MRNN_CHECK(n >= 0, "comm: start_sum of {} floats", n);
    return 0;
  }
  bool test(int64_t) override { return true; }
  void wait(int64_t, double, const std::string&) override {}
  std::vector<std::string> all_gather(const std::string& mine, double, const std::string&) override { return {mine}; }
  [[noreturn]] void abort(int code) override { std::exit(code); }
};

// The world size an MPI launcher announced in the environment (1 when none did).
int launcher_world_size() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"}) {
    const char* v = std::getenv(var);
    if (v && *v) return std::atoi(v);
  }
  return std::getenv("PMIX_RANK") ? 2 : 1;  // PMIx without a size variable: ask MPI
}

}  // namespace

std::unique_ptr<Comm> make_local_comm() { return std::make_unique<LocalComm>(); }

Comm& world_comm() {
  static std::unique_ptr<Comm> comm = [] {
    const int n = launcher_world_size();
    if (n <= 1) return make_local_comm();
#if MRNN_WITH_MPI
    return make_mpi_comm();
#else
    MRNN_FAIL("this process was started by an MPI launcher as one of {} ranks, but mrnn was built without MPI "
              "(configure with -DMRNN_MPI=ON after scripts/setup installs Open MPI); refusing to run {} copies "
              "that would overwrite each other's output", n, n);
#endif
  }();
  return *comm;
}

#if !MRNN_WITH_NCCL
bool nccl_built() { return false; }

std::unique_ptr<Comm> make_nccl_comm(Comm&, int) {
  MRNN_FAIL("comm: this build of mrnn has no NCCL (it needs the CUDA backend and NCCL: configure with "
            "-DMRNN_CUDA=ON where /usr/local/cuda holds nccl.h and libnccl)");
}
#endif

std::string pack_doubles(const std::vector<double>& v) {
  std::string s(v.size() * sizeof(double), '\0');
  if (!v.empty()) std::memcpy(s.data(), v.data(), s.size());
  return s;
}

std::vector<double> unpack_doubles(const std::string& bytes) {
  MRNN_CHECK(bytes.size() % sizeof(double) == 0, "comm: a payload of {} bytes is not a whole number of doubles",
             bytes.size());
  std::vector<double> v(bytes.size() / sizeof(double));
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

}  // namespace mrnn
