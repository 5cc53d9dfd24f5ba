#include "eval/meteor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

extern char** environ;

namespace mrnn::eval {
namespace {

// Python's s.replace(from, to): every non-overlapping occurrence, left to right, one pass.
std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  size_t start = 0;
  for (size_t pos; (pos = s.find(from, start)) != std::string::npos; start = pos + from.size())
    out.append(s, start, pos - start).append(to);
  return out.append(s, start, std::string::npos);
}

std::string strip(const std::string& s) {
  const char* space = " \t\r\n\v\f";
  const size_t b = s.find_first_not_of(space);
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(space) - b + 1);
}

// The jar as a child process whose stdin and stdout are one end of a socket pair (so a dead
// child gives us an error, not SIGPIPE) and whose stderr goes to an unlinked temporary file.
class JarProcess {
 public:
  JarProcess(const MeteorOptions& options, const std::string& jar) : jar_(jar) {
    timeout_ms_ = options.timeout_seconds * 1000;
    int fds[2];
    MRNN_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0,
               "METEOR: socketpair failed: {}", std::strerror(errno));
    fd_ = fds[0];
    char err_path[] = "/tmp/mrnn-meteor-stderr-XXXXXX";
    err_fd_ = mkostemp(err_path, O_CLOEXEC);
    if (err_fd_ >= 0) unlink(err_path);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    if (err_fd_ >= 0) posix_spawn_file_actions_adddup2(&actions, err_fd_, 2);
    std::vector<std::string> args = {options.java, "-jar", "-Xmx2G", jar, "-", "-",
                                     "-stdio", "-l", "en", "-norm"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, options.java.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
      pid_ = -1;
      close_fds();
      MRNN_FAIL("METEOR: cannot start '{}' to run the jar '{}': {} (install a Java runtime or set "
                "MeteorOptions::java)", options.java, jar, std::strerror(rc));
    }
  }
  JarProcess(const JarProcess&) = delete;
  JarProcess& operator=(const JarProcess&) = delete;

  ~JarProcess() {
    close_fds();
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status = 0;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }

  void send_line(const std::string& line) {
    std::string data = line + '\n';
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail(fmt::format("it exited or closed its input ({})", std::strerror(errno)));
      sent += static_cast<size_t>(n);
    }
  }

  std::string read_line() {
    for (;;) {
      const size_t eol = buffer_.find('\n');
      if (eol != std::string::npos) {
        std::string line = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 1);
        return line;
      }
      pollfd p{fd_, POLLIN, 0};
      const int ready = poll(&p, 1, timeout_ms_);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) fail(fmt::format("no answer within {} s", timeout_ms_ / 1000));
      char chunk[65536];
      const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("it exited or closed its output before answering");
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  double read_number() {
    const std::string line = strip(read_line());
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(line.c_str(), &end);
    if (line.empty() || errno != 0 || *end != '\0')
      fail(fmt::format("expected a number, got '{}'", line));
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    std::string err;
    if (err_fd_ >= 0) {
      const off_t size = lseek(err_fd_, 0, SEEK_END);
      const off_t from = size > 2000 ? size - 2000 : 0;
      err.resize(static_cast<size_t>(size - from));
      if (size > 0 && pread(err_fd_, err.data(), err.size(), from) < 0) err.clear();
    }
    MRNN_FAIL("METEOR: the jar '{}' failed: {}{}{}{}", jar_, what, exit_status(),
              err.empty() ? "" : "; its stderr: ", strip(err));
  }
  // ", exit status N" once the child has ended (waiting briefly), else "".
  std::string exit_status() {
    for (int tries = 0; pid_ > 0 && tries < 50; ++tries) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        if (WIFEXITED(status)) return fmt::format(", exit status {}", WEXITSTATUS(status));
        if (WIFSIGNALED(status)) return fmt::format(", killed by signal {}", WTERMSIG(status));
        return {};
      }
      usleep(10000);
    }
    return {};
  }
  void close_fds() {
    if (fd_ >= 0) close(fd_);
    if (err_fd_ >= 0) close(err_fd_);
    fd_ = err_fd_ = -1;
  }

  std::string jar_;
  int timeout_ms_ = 0;
  int fd_ = -1;
  int err_fd_ = -1;
  pid_t pid_ = -1;
  std::string buffer_;
};

}  // namespace

MeteorScore meteor_score(const std::string& jar_path, const CaptionMap& refs,
                         const CaptionMap& results, const MeteorOptions& options) {
  check_caption_inputs(refs, results, "METEOR");
  MeteorScore out;
  if (jar_path.empty()) {
    out.status = kMeteorNoJarStatus;
    return out;
  }
  struct stat st {};
  MRNN_CHECK(stat(jar_path.c_str(), &st) == 0 && S_ISREG(st.st_mode),
             "METEOR: jar file '{}' not found (expected the path of meteor-1.5.jar, e.g. the one "
             "pycocoevalcap ships in pycocoevalcap/meteor/)", jar_path);
  MRNN_CHECK(options.timeout_seconds > 0, "METEOR: timeout_seconds = {} (expected > 0)",
             options.timeout_seconds);
  for (const auto& [id, hyp] : results) {
    auto has_newline = [](const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; };
    MRNN_CHECK(!has_newline(hyp.front()), "METEOR: the result caption of image id '{}' contains a "
               "line break (the jar protocol is line based)", id);
    for (const std::string& r : refs.at(id))
      MRNN_CHECK(!has_newline(r), "METEOR: a reference caption of image id '{}' contains a line "
                 "break (the jar protocol is line based)", id);
  }

  JarProcess jar(options, jar_path);
  std::string eval_line = "EVAL";
  for (const auto& [id, hyp] : results) {
    std::string line = "SCORE";
    for (const std::string& r : refs.at(id)) line += " ||| " + r;
    line += " ||| " + replace_all(replace_all(hyp.front(), "|||", ""), "  ", " ");
    jar.send_line(line);
    eval_line += " ||| " + strip(jar.read_line());
    out.image_ids.push_back(id);
  }
  jar.send_line(eval_line);
  out.per_image.reserve(results.size());
  for (size_t i = 0; i < results.size(); ++i) out.per_image.push_back(jar.read_number());
  out.corpus = jar.read_number();
  out.computed = true;
  out.status = "computed";
  return out;
}

}  // namespace mrnn::eval
