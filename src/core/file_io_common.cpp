// The portable part of core/file_io.hpp: the reading loop with its size cap, the messages, the
// errno mapping (the public rvae::file_error uses it on every system) and the temporary's name.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "core/file_io.hpp"
#include "core/file_io_parts.hpp"
#include "core/try.hpp"

namespace rvae::detail {
namespace file_io {
namespace {

Error too_large(const std::string& path, std::optional<std::uint64_t> size, std::size_t limit) {
  const std::string what =
      size ? "is " + std::to_string(*size) + " bytes, larger than" : "is larger than";
  return Error(ErrorCode::kResourceExhausted,
               "'" + path + "' " + what + " the limit of " + std::to_string(limit) + " bytes");
}

// Reads into out[0, want) and returns how many bytes arrived before end of file.
Result<std::size_t> read_fully(const ReadSome& read_some, std::uint8_t* out, std::size_t want) {
  std::size_t got = 0;
  while (got < want) {
    RVAE_ASSIGN_OR_RETURN(const std::size_t n, read_some(out + got, want - got));
    if (n == 0) break;
    got += n;
  }
  return got;
}

// Appends the rest of the file to `out` in chunks, until end of file or one byte past the cap
// (pipes and devices have no meaningful size, and a regular file may grow while read).
Result<void> read_rest(const ReadSome& read_some, Bytes& out, std::size_t max_bytes,
                       const std::string& path) {
  constexpr std::size_t kChunk = 64 * 1024;
  for (;;) {
    if (out.size() > max_bytes) return too_large(path, std::nullopt, max_bytes);
    const std::size_t old_size = out.size();
    // One byte past the cap is enough to tell "exactly at the cap" from "over it".
    const std::size_t room = max_bytes - old_size;
    const std::size_t want = room < kChunk ? room + 1 : kChunk;
    out.resize(old_size + want);
    RVAE_ASSIGN_OR_RETURN(std::size_t got, read_fully(read_some, out.data() + old_size, want));
    out.resize(old_size + got);
    if (out.size() > max_bytes) return too_large(path, std::nullopt, max_bytes);
    if (got < want) return {};
  }
}

Result<Bytes> read_checked(const OpenedFile& file, const ReadSome& read_some,
                           const std::string& path, const ReadFileOptions& options) {
  if (file.directory) return is_a_directory(path);
  Bytes out;
  if (!file.regular) {
    if (options.regular_file_only) {
      return Error(ErrorCode::kInvalidArgument, "'" + path + "' is not a regular file");
    }
    RVAE_TRY(read_rest(read_some, out, options.max_bytes, path));
    return out;
  }
  if (file.size > options.max_bytes) return too_large(path, file.size, options.max_bytes);
  // The size is checked before the allocation; a file that grows meanwhile is caught below.
  out.resize(static_cast<std::size_t>(file.size));
  RVAE_ASSIGN_OR_RETURN(std::size_t got, read_fully(read_some, out.data(), out.size()));
  out.resize(got);  // The file may have shrunk since its size was taken.
  if (got < file.size) return out;
  // Files in /proc report size 0, and any file may have grown. One byte read aside first, so a
  // file of exactly its size (nearly always) does not grow `out`, which would copy it whole.
  std::uint8_t extra = 0;
  RVAE_ASSIGN_OR_RETURN(std::size_t more, read_fully(read_some, &extra, 1));
  if (more == 0) return out;
  if (out.size() >= options.max_bytes) return too_large(path, std::nullopt, options.max_bytes);
  out.push_back(extra);
  RVAE_TRY(read_rest(read_some, out, options.max_bytes, path));
  return out;
}

}  // namespace

Result<Bytes> read_opened_file(const OpenedFile& file, const ReadSome& read_some,
                               const std::string& path, const ReadFileOptions& options) {
  try {
    return read_checked(file, read_some, path, options);
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::kResourceExhausted, "not enough memory to read '" + path + "'");
  }
}

Error is_a_directory(const std::string& path) {
  return Error(ErrorCode::kInvalidArgument, "'" + path + "' is a directory, not a regular file");
}

Result<void> check_write_arguments(const std::string& path, const std::uint8_t* data,
                                   std::size_t size) {
  if (path.empty()) return Error(ErrorCode::kInvalidArgument, "cannot write a file: empty path");
  if (data == nullptr && size != 0) {
    return Error(ErrorCode::kInvalidArgument, "cannot write '" + path + "': data is null");
  }
  return {};
}

std::string temporary_path(const std::string& path, std::string_view separators,
                           unsigned long long process_id, unsigned long long serial) {
  const std::size_t end_of_dir = path.find_last_of(separators);
  const std::size_t name_start = end_of_dir == std::string::npos ? 0 : end_of_dir + 1;
  std::size_t end = std::min(path.size(), name_start + 128);
  // Not inside a UTF-8 sequence: Windows must convert the name to UTF-16.
  while (end > name_start && end < path.size() &&
         (static_cast<unsigned char>(path[end]) & 0xC0) == 0x80) {
    --end;
  }
  return path.substr(0, name_start) + "." + path.substr(name_start, end - name_start) + ".tmp-" +
         std::to_string(process_id) + "-" + std::to_string(serial);
}

unsigned long long next_temporary_serial() noexcept {
  static std::atomic<unsigned long long> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace file_io

ErrorCode error_code_for_errno(int error) noexcept {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return ErrorCode::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return ErrorCode::kPermissionDenied;
    case ENOSPC:
#ifdef EDQUOT  // not in every C library (mingw-w64 has none)
    case EDQUOT:
#endif
    case EFBIG:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
      return ErrorCode::kResourceExhausted;
    case EIO:
      return ErrorCode::kDataLoss;
    default:  // EISDIR, ENAMETOOLONG, ELOOP, ...: the path itself is unusable.
      return ErrorCode::kInvalidArgument;
  }
}

Error errno_error(int error, std::string_view action, const std::string& path) {
  // generic_category's text is strerror's, without strerror's shared buffer.
  return Error(error_code_for_errno(error), "cannot " + std::string(action) + " '" + path +
                                                "': " + std::generic_category().message(error));
}

}  // namespace rvae::detail
