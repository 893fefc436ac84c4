// Runs a fuzz target's LLVMFuzzerTestOneInput over files and directories of inputs, so the
// committed corpus and crash regressions run under ctest in any build (gcc included), with
// whatever sanitizers that build has. Usage: <target>_replay PATH...
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int run_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    // UTF-8: on Windows c_str() is a wide string, which %s would print as garbage.
    const auto name = path.u8string();  // std::u8string from C++20 on
    std::fprintf(stderr, "cannot read %s\n", std::string(name.begin(), name.end()).c_str());
    return 1;
  }
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
  // A copy of exactly the input's size, so ASan sees any read past its end.
  std::vector<std::uint8_t> exact(bytes);
  LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int failures = 0;
  int ran = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path path(argv[i]);
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
        if (!entry.is_regular_file()) continue;
        failures += run_file(entry.path());
        ++ran;
      }
    } else if (std::filesystem::exists(path)) {
      failures += run_file(path);
      ++ran;
    }
  }
  std::printf("replayed %d inputs\n", ran);
  return failures == 0 ? 0 : 1;
}
