// The inputs of decode and encode: files and directories named on the command line, or `-` for
// standard input.
#pragma once

#include <string>
#include <vector>

#include "rvae/bytes.hpp"

namespace rvae::cli {

/// Files named on the command line, with each directory replaced by its files whose extension is
/// one of `extensions` (sorted by name). `-` (standard input) stays as it is, and only alone.
/// UsageError when nothing remains.
std::vector<std::string> expand_inputs(const std::vector<std::string>& arguments,
                                       const std::vector<std::string>& extensions);

/// The file name without directory and extension ("dir/a.npy" -> "a"; "-" -> "stdin").
std::string stem_of(const std::string& path);

/// All of standard input (capped at `max_bytes`; rvae::Error beyond it or on a read error).
Bytes read_stdin(std::size_t max_bytes);

}  // namespace rvae::cli
