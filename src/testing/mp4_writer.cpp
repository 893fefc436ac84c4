// encode_mp4 through the MP4 module: the FFmpeg code lives in a module loaded with dlopen the
// first time a video is asked for, so programs linking rvae::testing (the rvae CLI above all)
// do not load FFmpeg's hundred-odd shared libraries at start-up.
#include "testing/mp4_writer.hpp"

#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "testing/mp4_module/mp4_module_abi.h"

namespace rvae::reference {
namespace {

struct Mp4Module {
  RvaeMp4EncodeFn encode = nullptr;
  RvaeMp4FreeFn free = nullptr;
  RvaeMp4EncoderNameFn encoder_name = nullptr;
  std::string failure;  // Why the module could not be loaded; empty once loaded.
};

std::string directory_of(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Where the module may be, most specific first: an explicit path, next to the running program
// (the build tree puts it beside `rvae`), the install layout relative to the program (so a
// relocated install still finds it), beside this library when it is shared, then the absolute
// build-tree and install paths this library was built with.
std::vector<std::string> module_candidates() {
  std::vector<std::string> candidates;
  if (const char* path = std::getenv("RVAE_MP4_MODULE"); path != nullptr && path[0] != '\0') {
    candidates.emplace_back(path);
  }
  char exe[PATH_MAX];
  const ssize_t length = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (length > 0) {
    const std::string bindir = directory_of(std::string(exe, static_cast<std::size_t>(length)));
    candidates.push_back(bindir + "/" RVAE_MP4_MODULE_FILE);
    candidates.push_back(bindir + "/" RVAE_MP4_MODULE_FROM_BINDIR "/" RVAE_MP4_MODULE_FILE);
  }
  Dl_info self{};
  if (::dladdr(reinterpret_cast<void*>(&module_candidates), &self) != 0 &&
      self.dli_fname != nullptr) {
    candidates.push_back(directory_of(self.dli_fname) + "/rvae/" RVAE_MP4_MODULE_FILE);
  }
  candidates.emplace_back(RVAE_MP4_MODULE_BUILD_PATH);
  candidates.emplace_back(RVAE_MP4_MODULE_INSTALL_DIR "/" RVAE_MP4_MODULE_FILE);
  return candidates;
}

Mp4Module load_module() {
  Mp4Module module;
  std::string tried;
  for (const std::string& path : module_candidates()) {
    if (::access(path.c_str(), R_OK) != 0) {
      tried += (tried.empty() ? "" : ", ") + path;
      continue;
    }
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      module.failure = "cannot load the MP4 module " + path + ": " + (why ? why : "unknown error");
      return module;
    }
    auto version =
        reinterpret_cast<RvaeMp4AbiVersionFn>(::dlsym(handle, RVAE_MP4_SYMBOL_ABI_VERSION));
    module.encode = reinterpret_cast<RvaeMp4EncodeFn>(::dlsym(handle, RVAE_MP4_SYMBOL_ENCODE));
    module.free = reinterpret_cast<RvaeMp4FreeFn>(::dlsym(handle, RVAE_MP4_SYMBOL_FREE));
    module.encoder_name =
        reinterpret_cast<RvaeMp4EncoderNameFn>(::dlsym(handle, RVAE_MP4_SYMBOL_ENCODER_NAME));
    if (version == nullptr || version() != RVAE_MP4_MODULE_ABI_VERSION ||
        module.encode == nullptr || module.free == nullptr || module.encoder_name == nullptr) {
      // Kept loaded: unloading a library that may have started FFmpeg threads is not safe.
      module = Mp4Module{};
      module.failure = "the MP4 module " + path + " is from another version of rvae";
      return module;
    }
    return module;
  }
  module.failure = "the MP4 module " RVAE_MP4_MODULE_FILE " was not found (looked for " + tried +
                   "; set RVAE_MP4_MODULE to its path)";
  return module;
}

// Loaded once, on first use, by whichever thread gets here first.
const Mp4Module& module() {
  static const Mp4Module loaded = load_module();
  return loaded;
}

std::vector<const char*> c_names(const std::vector<std::string>& names) {
  std::vector<const char*> pointers;
  pointers.reserve(names.size());
  for (const std::string& name : names)
    pointers.push_back(name.c_str());
  return pointers;
}

}  // namespace

std::string mp4_encoder_name(const std::vector<std::string>& encoders) {
  const Mp4Module& loaded = module();
  if (loaded.encoder_name == nullptr) return {};
  const std::vector<const char*> names = c_names(encoders);
  char name[256];
  loaded.encoder_name(names.data(), names.size(), name, sizeof(name));
  return name;
}

Result<Bytes> encode_mp4(const std::uint8_t* rgb, std::size_t rgb_bytes, std::size_t frames,
                         int width, int height, const Mp4Settings& settings) {
  const Mp4Module& loaded = module();
  if (loaded.encode == nullptr) {
    return Error(ErrorCode::kInternal, "MP4 output is unavailable: " + loaded.failure + ".");
  }
  const std::vector<const char*> encoders = c_names(settings.encoders);
  RvaeMp4Job job{};
  job.rgb = rgb;
  job.rgb_bytes = rgb_bytes;
  job.frames = frames;
  job.width = width;
  job.height = height;
  job.frames_per_second = settings.frames_per_second;
  job.encoders = encoders.data();
  job.encoder_count = encoders.size();
  job.temp_dir = settings.temp_dir.c_str();
  job.max_bytes = settings.max_bytes;
  RvaeMp4Outcome outcome{};
  loaded.encode(&job, &outcome);
  if (outcome.failed != 0) {
    return Error(static_cast<ErrorCode>(outcome.error_code), outcome.message);
  }
  Bytes bytes(outcome.bytes, outcome.bytes + outcome.size);
  loaded.free(outcome.bytes);
  return bytes;
}

}  // namespace rvae::reference
