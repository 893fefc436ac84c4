// Where results go: output directories (with or without a trailing '/') and name collisions
// found before anything is sent. The files themselves are written by the library's writers
// (write_file, write_image, write_npy, write_safetensors), which never leave a partial file.
#pragma once

#include <cstdint>
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

/// Writes all of `size` bytes to standard output; rvae::Error when it cannot.
void write_stdout(const std::uint8_t* data, std::size_t size);

/// Size of the file at `path` in bytes, or of every file under it for a directory; 0 when absent.
std::uint64_t bytes_on_disk(const std::string& path);

}  // namespace rvae::cli
