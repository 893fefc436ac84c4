// The public whole-file read and write: the core routine, which every layer shares.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/file_io.hpp"
#include "rvae/error.hpp"
#include "rvae/latent_file.hpp"

namespace rvae {

Result<Bytes> read_file(const std::string& path, std::size_t max_bytes) {
  detail::ReadFileOptions options;
  options.max_bytes = max_bytes;
  return detail::read_whole_file(path, options);
}

Result<void> write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  return detail::write_file_atomically(path, data, size);
}

Error file_error(int error, const std::string& action, const std::string& path) {
  return detail::errno_error(error, action, path);
}

}  // namespace rvae
