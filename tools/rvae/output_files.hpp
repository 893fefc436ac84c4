// Where results go and how they get there: output directories (with or without a trailing
// '/'), name collisions found before anything is sent, and writes that never leave a partial
// file (a temporary name in the same directory, renamed into place).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rvae::cli {

/// True when `path` ends in '/' or names an existing directory.
bool is_directory_target(const std::string& path);
/// `dir` without trailing slashes ("out/" -> "out", "/" stays "/").
std::string directory_without_slash(const std::string& dir);
/// `dir` + "/" + `name`, whether or not `dir` ends in '/'.
std::string join_path(const std::string& dir, const std::string& name);
/// Creates the directory `dir` (and its parents) unless it exists; rvae::Error when it cannot.
void make_directories(const std::string& dir);

/// UsageError naming both inputs when two of them would be written to the same output
/// (`targets[i]` is input i's output).
void check_output_collisions(const std::vector<std::string>& inputs,
                             const std::vector<std::string>& targets);

/// Calls `write(temporary)` with a temporary path beside `target` that keeps its extension, then
/// renames the temporary to `target`; on any failure the temporary is removed and the error
/// rethrown. So `target` is either absent, as before, or complete.
void write_atomically(const std::string& target,
                      const std::function<void(const std::string& temporary)>& write);

/// Writes all of `size` bytes to standard output; rvae::Error when it cannot.
void write_stdout(const std::uint8_t* data, std::size_t size);

/// Size of the file at `path` in bytes, or of every file under it for a directory; 0 when absent.
std::uint64_t bytes_on_disk(const std::string& path);

}  // namespace rvae::cli
