// Whole-file reads and atomic whole-file writes with one mapping from the system's error numbers
// to ErrorCode: latent files, images, the token file and presets all go through here. The
// declarations are portable: file_io_posix.cpp and file_io_win32.cpp hold the system calls,
// file_io_common.cpp what both share. Paths are UTF-8 on every system; files are binary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rvae/bytes.hpp"
#include "rvae/error.hpp"

namespace rvae::detail {

/// What read_whole_file accepts.
struct ReadFileOptions {
  /// The largest file accepted. A regular file's size is checked before anything is allocated;
  /// a pipe or device is read until one byte past the cap.
  std::size_t max_bytes = SIZE_MAX;
  /// Refuse anything but a regular file, and open without blocking: a FIFO with no writer or a
  /// terminal planted at the path is refused at once instead of being waited on.
  bool regular_file_only = false;
};

/// Reads the whole file at `path`. A file that grows or shrinks while read gives what was read,
/// still under the cap. Errors (the message names the file and the cause):
///  - NotFound: the file or a directory on its path does not exist;
///  - PermissionDenied: it may not be read;
///  - InvalidArgument: it is a directory, or not a regular file under `regular_file_only`;
///  - ResourceExhausted: it is larger than `max_bytes`, or memory or descriptors ran out;
///  - DataLoss: the device failed while reading (EIO);
///  - otherwise the code errno_error gives.
Result<Bytes> read_whole_file(const std::string& path, const ReadFileOptions& options = {});

/// Writes `size` bytes to `path` atomically and durably: a new temporary file beside `path`
/// (hidden, unique per process and call), written whole, flushed to the disk (fsync,
/// FlushFileBuffers), closed and renamed over `path` (rename, MoveFileExW replacing an existing
/// file). On any failure the temporary is removed and `path` is as before.
/// `data` may be null when `size` is 0. Errors as errno_error gives them for the failed step
/// (a full disk or quota is ResourceExhausted; a missing directory NotFound; an unwritable one
/// PermissionDenied; a directory in the way InvalidArgument); an empty path or null data is
/// InvalidArgument.
Result<void> write_file_atomically(const std::string& path, const std::uint8_t* data,
                                   std::size_t size);

/// The characters that end a directory in a path: Windows takes both slashes.
#ifdef _WIN32
inline constexpr std::string_view kPathSeparators = "/\\";
#else
inline constexpr std::string_view kPathSeparators = "/";
#endif

/// The one mapping from an errno value to an ErrorCode for file operations.
ErrorCode error_code_for_errno(int error) noexcept;

/// "cannot <action> '<path>': <the system's text for error>", with error_code_for_errno's code.
Error errno_error(int error, std::string_view action, const std::string& path);

#ifdef _WIN32
/// The same mapping for a Win32 error (GetLastError), onto the same codes as errno's.
ErrorCode error_code_for_win32(unsigned long error) noexcept;

/// "cannot <action> '<path>': <the system's text for error>", with error_code_for_win32's code.
Error win32_error(unsigned long error, std::string_view action, const std::string& path);

/// UTF-16 text from a W function (a name, a message, an environment value) as UTF-8; "" when
/// it cannot be converted.
std::string utf8_from_wide(const wchar_t* text, std::size_t length);
#endif

}  // namespace rvae::detail
