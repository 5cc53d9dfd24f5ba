// The MPI communicator (compiled when CMake finds MPI: MRNN_WITH_MPI). Every call runs on the main
// thread (MPI_THREAD_FUNNELED). Waits poll MPI_Test / MPI_Iprobe with short sleeps, so that a
// deadline can end them: a blocking MPI call would hang forever on a rank that stopped.
#if MRNN_WITH_MPI
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "core/error.h"
#include "models/engine/comm.h"

namespace mrnn {

namespace {

constexpr int kGatherTag = 7001, kResultTag = 7002;
// Ranks other than 0 wait this much longer than the timeout for rank 0's answer, so that rank 0,
// which knows who is missing, reports first.
constexpr double kFollowerGrace = 5.0;

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  MRNN_FAIL("comm: {} failed: {}", call, std::string(text, static_cast<size_t>(len)));
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void nap() { std::this_thread::sleep_for(std::chrono::microseconds(50)); }

class MpiComm final : public Comm {
 public:
  MpiComm() {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
      int provided = 0;
      check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      std::atexit([] {
        int done = 0;
        MPI_Finalized(&done);
        if (!done) MPI_Finalize();
      });
    }
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  int64_t start_sum(float* data, int64_t n) override {
    MRNN_CHECK(n >= 0 && n <= INT_MAX, "comm: start_sum of {} floats (at most {} per bucket)", n, INT_MAX);
    MPI_Request req;
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_FLOAT, MPI_SUM, comm_, &req),
              "MPI_Iallreduce");
    const int64_t id = next_id_++;
    pending_[id] = req;
    return id;
  }

  bool test(int64_t request) override {
    auto it = pending_.find(request);
    if (it == pending_.end()) return true;
    int done = 0;
    check_mpi(MPI_Test(&it->second, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) pending_.erase(it);
    return done != 0;
  }

  void wait(int64_t request, double timeout_s, const std::string& what) override {
    const auto t0 = Clock::now();
    while (!test(request)) {
      if (seconds_since(t0) > timeout_s)
        MRNN_FAIL("{}: not complete after {} s (--comm-timeout) on rank {} of {}: another rank died or hangs", what,
                  timeout_s, rank_, size_);
      nap();
    }
  }

  std::vector<std::string> all_gather(const std::string& mine, double timeout_s, const std::string& what) override {
    const auto t0 = Clock::now();
    std::vector<std::string> all(size_);
    if (rank_ == 0) {
      all[0] = mine;
      std::vector<bool> got(size_, false);
      got[0] = true;
      int missing = size_ - 1;
      while (missing > 0) {
        for (int r = 1; r < size_; ++r) {
          if (got[r]) continue;
          int flag = 0;
          MPI_Status st;
          check_mpi(MPI_Iprobe(r, kGatherTag, comm_, &flag, &st), "MPI_Iprobe");
          if (!flag) continue;
          int count = 0;
          MPI_Get_count(&st, MPI_BYTE, &count);
          all[r].resize(static_cast<size_t>(count));
          check_mpi(MPI_Recv(all[r].data(), count, MPI_BYTE, r, kGatherTag, comm_, MPI_STATUS_IGNORE), "MPI_Recv");
          got[r] = true;
          --missing;
        }
        if (missing == 0) break;
        if (seconds_since(t0) > timeout_s) {
          std::string who;
          for (int r = 1; r < size_; ++r)
            if (!got[r]) who += (who.empty() ? "" : ", ") + std::to_string(r);
          MRNN_FAIL("{}: rank{} {} did not answer within {} s (--comm-timeout): died or hangs", what,
                    missing > 1 ? "s" : "", who, timeout_s);
        }
        nap();
      }
      std::string packed = pack(all);
      std::vector<MPI_Request> sends(size_ - 1);
      for (int r = 1; r < size_; ++r)
        check_mpi(MPI_Isend(packed.data(), static_cast<int>(packed.size()), MPI_BYTE, r, kResultTag, comm_,
                            &sends[r - 1]), "MPI_Isend");
      std::vector<int> peers;
      for (int r = 1; r < size_; ++r) peers.push_back(r);
      wait_all(sends, peers, t0, timeout_s, what, "rank 0 could not deliver the result");
      return all;
    }
    MPI_Request send;
    check_mpi(MPI_Isend(const_cast<char*>(mine.data()), static_cast<int>(mine.size()), MPI_BYTE, 0, kGatherTag, comm_,
                        &send), "MPI_Isend");
    std::string packed;
    for (;;) {
      int flag = 0;
      MPI_Status st;
      check_mpi(MPI_Iprobe(0, kResultTag, comm_, &flag, &st), "MPI_Iprobe");
      if (flag) {
        int count = 0;
        MPI_Get_count(&st, MPI_BYTE, &count);
        packed.resize(static_cast<size_t>(count));
        check_mpi(MPI_Recv(packed.data(), count, MPI_BYTE, 0, kResultTag, comm_, MPI_STATUS_IGNORE), "MPI_Recv");
        break;
      }
      if (seconds_since(t0) > timeout_s + kFollowerGrace)
        MRNN_FAIL("{}: rank {} got no answer from rank 0 within {} s (--comm-timeout): rank 0 died or hangs", what,
                  rank_, timeout_s + kFollowerGrace);
      nap();
    }
    std::vector<MPI_Request> sends{send};
    wait_all(sends, {0}, t0, timeout_s + kFollowerGrace, what, "rank " + std::to_string(rank_) + " could not send to it");
    return unpack(packed, what);
  }

  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  // Waits for the sends reqs[i] to ranks peers[i]; after the timeout names the ranks that did not
  // take their message.
  void wait_all(std::vector<MPI_Request>& reqs, const std::vector<int>& peers, Clock::time_point t0,
                double timeout_s, const std::string& what, const std::string& doing) {
    std::vector<bool> done(reqs.size(), false);
    for (size_t left = reqs.size(); left > 0;) {
      for (size_t i = 0; i < reqs.size(); ++i) {
        if (done[i]) continue;
        int flag = 0;
        check_mpi(MPI_Test(&reqs[i], &flag, MPI_STATUS_IGNORE), "MPI_Test");
        if (flag) {
          done[i] = true;
          --left;
        }
      }
      if (left == 0) break;
      if (seconds_since(t0) > timeout_s) {
        std::string who;
        for (size_t i = 0; i < reqs.size(); ++i)
          if (!done[i]) who += (who.empty() ? "" : ", ") + std::to_string(peers[i]);
        MRNN_FAIL("{}: rank{} {} did not answer within {} s (--comm-timeout): died or hangs ({})", what,
                  left > 1 ? "s" : "", who, timeout_s, doing);
      }
      nap();
    }
  }

  // [count][len_0 ... len_{n-1}][bytes_0 ... bytes_{n-1}], lengths as uint64.
  static std::string pack(const std::vector<std::string>& parts) {
    std::string out;
    const uint64_t n = parts.size();
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    for (const std::string& p : parts) {
      const uint64_t len = p.size();
      out.append(reinterpret_cast<const char*>(&len), sizeof len);
    }
    for (const std::string& p : parts) out += p;
    return out;
  }

  std::vector<std::string> unpack(const std::string& s, const std::string& what) const {
    uint64_t n = 0;
    MRNN_CHECK(s.size() >= sizeof n, "{}: rank {} got a truncated answer from rank 0", what, rank_);
    std::memcpy(&n, s.data(), sizeof n);
    MRNN_CHECK(n == static_cast<uint64_t>(size_) && s.size() >= sizeof n * (n + 1),
               "{}: rank {} got an answer for {} ranks from rank 0, expected {}", what, rank_, n, size_);
    std::vector<std::string> parts(n);
    size_t at = sizeof n * (n + 1);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t len = 0;
      std::memcpy(&len, s.data() + sizeof n * (i + 1), sizeof len);
      MRNN_CHECK(at + len <= s.size(), "{}: rank {} got a truncated answer from rank 0", what, rank_);
      parts[i] = s.substr(at, len);
      at += len;
    }
    return parts;
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  int64_t next_id_ = 1;
  std::map<int64_t, MPI_Request> pending_;
};

}  // namespace

std::unique_ptr<Comm> make_mpi_comm() { return std::make_unique<MpiComm>(); }

}  // namespace mrnn
#endif  // MRNN_WITH_MPI
