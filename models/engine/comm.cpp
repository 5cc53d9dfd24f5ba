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

std::vector<std::string> map_chunks(Comm& comm, int64_t n, const std::function<std::string(int64_t chunk)>& compute,
                                    double timeout_s, const std::string& what) {
  const int rank = comm.rank(), size = comm.size();
  std::vector<std::string> mine;
  for (int64_t c = rank; c < n; c += size) mine.push_back(compute(c));
  if (size == 1) return mine;
  // This rank's results as [count][len...][bytes...] (uint64 lengths).
  std::string packed;
  const uint64_t count = mine.size();
  packed.append(reinterpret_cast<const char*>(&count), sizeof count);
  for (const std::string& m : mine) {
    const uint64_t len = m.size();
    packed.append(reinterpret_cast<const char*>(&len), sizeof len);
  }
  for (const std::string& m : mine) packed += m;
  const std::vector<std::string> all = comm.all_gather(packed, timeout_s, what);
  std::vector<std::string> out(static_cast<size_t>(n));
  for (int r = 0; r < size; ++r) {
    const std::string& p = all[r];
    uint64_t k = 0;
    MRNN_CHECK(p.size() >= sizeof k, "{}: rank {} sent a truncated result", what, r);
    std::memcpy(&k, p.data(), sizeof k);
    const uint64_t expected = r < n ? static_cast<uint64_t>((n - 1 - r) / size + 1) : 0;
    MRNN_CHECK(k == expected && p.size() >= sizeof k * (k + 1), "{}: rank {} sent {} chunk results, expected {}",
               what, r, k, expected);
    size_t at = sizeof k * (k + 1);
    for (uint64_t i = 0; i < k; ++i) {
      uint64_t len = 0;
      std::memcpy(&len, p.data() + sizeof k * (i + 1), sizeof len);
      MRNN_CHECK(at + len <= p.size(), "{}: rank {} sent a truncated result", what, r);
      out[static_cast<size_t>(r + static_cast<int64_t>(i) * size)] = p.substr(at, len);
      at += len;
    }
  }
  return out;
}

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
