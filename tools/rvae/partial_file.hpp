// A file written piece by piece, at any offset, that appears under its name only once whole: the
// bytes go to a hidden temporary beside the target (as the library's writers do), renamed over
// it by commit(). Dropped without commit(), the temporary is removed and the target is as before,
// so a reply that fails mid-way never leaves a file that looks complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace rvae::cli {

class PartialFile {
 public:
  /// Creates the temporary for `path`; rvae::Error naming `path` when it cannot.
  explicit PartialFile(std::string path);
  /// Removes the temporary unless commit() succeeded.
  ~PartialFile();
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;

  /// Writes `size` bytes at `offset` (positioned: pieces may come in any order); rvae::Error
  /// naming the target on failure (a full disk is ResourceExhausted).
  void write_at(std::uint64_t offset, const std::uint8_t* data, std::size_t size);
  /// Reads `size` bytes at `offset` back (for a rewrite in place); rvae::Error on failure.
  void read_at(std::uint64_t offset, std::uint8_t* data, std::size_t size);
  /// Flushes to the disk and renames the temporary over the target; rvae::Error on failure
  /// (the temporary is removed then).
  void commit();

  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail(int error);

  std::string path_;
  std::string temporary_;
  int fd_ = -1;
  bool temporary_exists_ = false;
};

}  // namespace rvae::cli
