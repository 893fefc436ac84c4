// Whether a call is tiled: any image size goes through an endpoint that caps each request, as
// overlapping tiles in flight at once and joined without a visible seam. Every Client call form
// (decode, decode_async, decode_batch, and the encode ones) tiles exactly when these say so; set
// TilingOptions::mode to kOn to tile explicitly. What a tiled result holds:
// - decode: kUInt8 and kImage fill `images` (kImage also re-encodes them in image_format into
//   `encoded`), kFloatTensor fills `tensor` in the dtype the tiles came back in; kMp4 cannot be
//   tiled (InvalidArgument). When the plan has one tile, the call is exactly one plain request.
// - encode: [1,C,H/8,W/8] latents (sides must be multiples of 8), blended in latent space and
//   colour-matched to an encode of the downsampled whole image.
// - temporal chunks (video decode, TilingOptions::chunk_mode): kUInt8 fills `images` (one per
//   frame), kFloatTensor fills `tensor` [B,3,F,H,W]; kMp4 and kImage cannot be chunked, nor a
//   model whose decoder carries state across frames (InvalidArgument). With
//   DecodeOptions::stream.on_frame set, frames are handed out in order as soon as their blend is
//   complete (then `images` stays empty); on_chunk and `into` are not supported with chunking yet.
//   When the plan has one chunk, the call is exactly one plain request.
// Errors: InvalidArgument for bad tiling settings or input; the first failing tile's error
// (after its retries), prefixed with the tile's position; Cancelled; DeadlineExceeded when the
// call's deadline passes. `timings.total` spans the whole call; `attempts` and byte counts add
// up every request. Memory: the output plus the tiles in flight and waiting for a neighbour.
#pragma once

#include "rvae/export.h"
#include "rvae/options.hpp"
#include "rvae/tensor.hpp"
#include "rvae/tiling.hpp"

namespace rvae {

/// True when a decode of `latents` with `options` is split into tiles or temporal chunks: mode
/// kOn, or kAuto and an output side above options.tiling.max_image_side, or
/// decode_needs_chunking. False for malformed input (the request then reports it).
RVAE_API bool decode_needs_tiling(const TensorView& latents, const DecodeOptions& options) noexcept;
/// True when a decode of video `latents` with `options` is split along time into chunks
/// (TilingOptions::chunk_mode; kAuto: the whole reply above reply_budget_bytes or more frames than
/// max_frames). False for image latents and malformed input.
RVAE_API bool decode_needs_chunking(const TensorView& latents,
                                    const DecodeOptions& options) noexcept;
/// TilingOptions::frames_per_request as used: rounded down to a multiple of
/// `temporal_compression`, and at least twice it (the blend needs one stride). 0 for
/// temporal_compression < 1.
RVAE_API int snap_frames_per_request(int frames, int temporal_compression) noexcept;
/// True when an encode of a width x height image with `options` is split into tiles.
RVAE_API bool encode_needs_tiling(int width, int height, const EncodeOptions& options) noexcept;

}  // namespace rvae
