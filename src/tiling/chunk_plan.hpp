// Where the temporal chunks of a video decode go: diffusers' AutoencoderKLHunyuanVideo
// _temporal_tiled_decode scheme, as a plan of requests and the blend weights that join them.
#pragma once

#include <cstddef>
#include <vector>

namespace rvae::detail {

/// One request of a chunked decode.
struct Chunk {
  int latent_start = 0;  ///< First latent frame sent (the extra one, for chunks after the first).
  int latent_count = 0;  ///< Latent frames sent.
  int drop = 0;          ///< Decoded frames dropped at the front (1 after the first chunk).
  int first_frame = 0;   ///< Output frame of the first kept frame.
  int frames = 0;        ///< Kept frames (after the drop).
  int own_begin = 0;     ///< Output frames [own_begin, own_end) are written from this chunk,
  int own_end = 0;       ///< blended with the previous chunk over the first `blend` of them.
  int blend = 0;         ///< Frames cross-faded with the previous chunk (0 for the first).
};

/// The chunks of a clip, in time order.
struct ChunkPlan {
  std::vector<Chunk> chunks;
  int total_frames = 0;  ///< Output frames of the clip: tc (T - 1) + 1.

  /// The chunk that writes output frame `frame`.
  std::size_t owner(int frame) const noexcept;
  /// Weight of chunk `k` (the owner) at output frame `frame`; its predecessor has 1 - weight.
  /// Diffusers' blend_t: x / blend at the x-th blended frame.
  float weight(std::size_t k, int frame) const noexcept;
};

/// The plan for `latent_frames` latent frames, temporal compression `tc`, and chunks of
/// `frames_per_request` output frames (a multiple of tc, at least 2 tc: see
/// snap_frames_per_request). One chunk, the whole clip, when its frames fit one request
/// (frames_per_request + 1); otherwise chunks start every frames_per_request / tc - 1 latent
/// frames and send frames_per_request / tc + 1 of them (one extra before each chunk after the
/// first), and a last chunk that would keep no frame is left out.
ChunkPlan plan_chunks(int latent_frames, int tc, int frames_per_request);

}  // namespace rvae::detail
