// Stand-in for libFuzzer's main when no clang is available (MRNN_FUZZ_ENGINE=replay): runs
// LLVMFuzzerTestOneInput once on each file named on the command line, or on each file in each
// named directory, so corpora and regressions can still be replayed under ASan/UBSan.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  size_t runs = 0;
  auto run = [&](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    ++runs;
  };
  for (int i = 1; i < argc; ++i) {
    const fs::path arg = argv[i];
    if (!arg.empty() && arg.native()[0] == '-') continue;  // libFuzzer flags: ignored
    if (fs::is_directory(arg)) {
      for (const auto& e : fs::directory_iterator(arg))
        if (e.is_regular_file()) run(e.path());
    } else if (fs::is_regular_file(arg)) {
      run(arg);
    }
  }
  std::printf("replayed %zu inputs\n", runs);
  return 0;
}
