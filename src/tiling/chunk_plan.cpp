// The chunk plan follows diffusers' loop (for i in range(0, T, stride): z[i : i + min + 1]) and
// its concatenation (the first tile keeps stride + 1 frames, the others stride), so that a chunked
// decode is the same video diffusers' temporal tiling gives.
#include "tiling/chunk_plan.hpp"

#include <algorithm>

namespace rvae::detail {

std::size_t ChunkPlan::owner(int frame) const noexcept {
  std::size_t k = 0;
  while (k + 1 < chunks.size() && frame >= chunks[k + 1].own_begin)
    ++k;
  return k;
}

float ChunkPlan::weight(std::size_t k, int frame) const noexcept {
  const Chunk& chunk = chunks[k];
  const int x = frame - chunk.own_begin;
  if (chunk.blend == 0 || x >= chunk.blend) return 1.0f;
  return static_cast<float>(x) / static_cast<float>(chunk.blend);
}

ChunkPlan plan_chunks(int latent_frames, int tc, int frames_per_request) {
  ChunkPlan plan;
  plan.total_frames = tc * (latent_frames - 1) + 1;
  const int latent_min = frames_per_request / tc;  // diffusers' tile_latent_min_num_frames
  const int stride = latent_min - 1;               // tile_latent_stride_num_frames
  const int stride_frames = stride * tc;           // tile_sample_stride_num_frames
  if (latent_frames <= latent_min + 1) {
    plan.chunks.push_back({0, latent_frames, 0, 0, plan.total_frames, 0, plan.total_frames, 0});
    return plan;
  }
  for (int start = 0; start < latent_frames; start += stride) {
    Chunk chunk;
    chunk.latent_start = start;
    chunk.latent_count = std::min(latent_min + 1, latent_frames - start);
    chunk.drop = start > 0 ? 1 : 0;
    chunk.first_frame = start > 0 ? tc * start + 1 : 0;
    chunk.frames = tc * (chunk.latent_count - 1) + 1 - chunk.drop;
    if (chunk.frames <= 0) break;  // a last latent frame already decoded by the chunk before
    chunk.own_begin = chunk.first_frame;
    const int keep = start > 0 ? stride_frames : stride_frames + 1;
    chunk.own_end = std::min(chunk.first_frame + std::min(keep, chunk.frames), plan.total_frames);
    if (!plan.chunks.empty()) {
      const Chunk& before = plan.chunks.back();
      chunk.blend = std::min({before.frames, chunk.frames, tc});
    }
    plan.chunks.push_back(chunk);
  }
  return plan;
}

}  // namespace rvae::detail
