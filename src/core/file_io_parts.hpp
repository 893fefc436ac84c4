// What the POSIX and Win32 implementations of core/file_io.hpp share: the reading loop with its
// size cap, the messages, and the temporary's name. Only the system calls differ between them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/file_io.hpp"
#include "rvae/bytes.hpp"
#include "rvae/error.hpp"

namespace rvae::detail::file_io {

/// What the system says about an opened file.
struct OpenedFile {
  bool directory = false;
  /// A regular file, whose size means something; pipes and devices are not.
  bool regular = false;
  std::uint64_t size = 0;
};

/// Reads at most `want` bytes into `out`: how many arrived, 0 only at end of file. Retries an
/// interrupted call itself.
using ReadSome = std::function<Result<std::size_t>(std::uint8_t* out, std::size_t want)>;

/// read_whole_file once the file is open: the checks of file_io.hpp, then the bytes.
Result<Bytes> read_opened_file(const OpenedFile& file, const ReadSome& read_some,
                               const std::string& path, const ReadFileOptions& options);

/// "'<path>' is a directory, not a regular file" (InvalidArgument).
Error is_a_directory(const std::string& path);

/// write_file_atomically's checks of its arguments, before any system call: an empty path, or
/// null data with a size, is InvalidArgument.
Result<void> check_write_arguments(const std::string& path, const std::uint8_t* data,
                                   std::size_t size);

/// The temporary write_file_atomically writes first: beside `path` (a replace is atomic only
/// within one file system), hidden by a leading dot so a listing or a glob of the directory never
/// picks up a half-written file, and unique per process (`process_id`) and call (`serial`). The
/// target's name is cut to 128 bytes (at a UTF-8 character's start) so a long name does not make
/// the temporary's too long.
/// `separators` are the characters that end a directory in a path ("/", or "/\\" on Windows).
std::string temporary_path(const std::string& path, std::string_view separators,
                           unsigned long long process_id, unsigned long long serial);

/// The next serial number for temporary_path in this process.
unsigned long long next_temporary_serial() noexcept;

}  // namespace rvae::detail::file_io
