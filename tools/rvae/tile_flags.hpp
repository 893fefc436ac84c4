// --tile auto|off|SIZE and --tile-overlap N, shared by rvae decode and rvae encode, and
// --frames-per-request for decode.
#pragma once

#include <cstddef>
#include <ostream>
#include <set>
#include <string>

#include "args.hpp"
#include "rvae/options.hpp"
#include "rvae/tiling.hpp"

namespace rvae::cli {

/// The value options the tile flags add to a command.
extern const std::set<std::string> kTileValueOptions;
/// The usage lines that describe them.
extern const char* const kTileUsage;

/// Applies the flags to `tiling` (whose max_image_side came from the preset). UsageError for a
/// value that is not auto, off or a number; the library checks the sizes themselves.
void apply_tile_flags(const Args& args, TilingOptions& tiling);

/// The value option of temporal chunking (decode only): --frames-per-request N|auto|off.
extern const std::set<std::string> kChunkValueOptions;
/// The usage lines that describe it.
extern const char* const kChunkUsage;

/// Applies --frames-per-request to `options` (their output_type already chosen): N forces
/// chunks of N frames, snapped to the scheme (a note on `notes` says so when N changes), auto
/// chunks above the preset's reply budget, off never. UsageError for another value, or for N
/// with MP4 output (the chunks cannot be joined into an MP4 here).
void apply_chunk_flags(const Args& args, DecodeOptions& options, std::ostream& notes);

/// The client's window of requests on the wire for `jobs` inputs at a time: --jobs counts
/// inputs, and one tiled input's tiles are bounded by this window, not by --jobs (at -j 4 a
/// 4096 x 4096 decode's 10 requests would go out in three rounds).
std::size_t requests_in_flight(int jobs, const TilingOptions& tiling);

}  // namespace rvae::cli
