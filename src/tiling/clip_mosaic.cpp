// The mosaic is built in float32 and converted once to the latents' dtype. The filler is computed
// from the content as sent (values already in that dtype), so only the filler's own rounding is
// left in the request's mean.
#include "tiling/clip_mosaic.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "core/try.hpp"
#include "tensor/float_io.hpp"

namespace rvae::detail {

ClipMosaic ClipMosaic::plan(int latent_frames, int request_frames, int slot_height, int slot_width,
                            int gutter, int tc) noexcept {
  ClipMosaic m;
  m.latent_frames_ = std::max(1, latent_frames);
  m.request_frames_ = std::max(2, request_frames);
  m.slot_height_ = std::max(1, slot_height);
  m.slot_width_ = std::max(1, slot_width);
  m.gutter_ = std::max(0, gutter);
  m.tc_ = std::max(1, tc);
  const int l = m.request_frames_;
  // The first run contributes all its frames, the others all but their past.
  m.runs_ = m.latent_frames_ <= l ? 1 : 1 + (m.latent_frames_ - l + l - 2) / (l - 1);
  // At least one slot of filler, so that the request's mean can always be set.
  const int slots = m.runs_ + 1;
  m.columns_ = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(slots))));
  m.rows_ = (slots + m.columns_ - 1) / m.columns_;
  return m;
}

int ClipMosaic::run_start(int run) const noexcept {
  return run == 0 ? 0 : request_frames_ + (run - 1) * (request_frames_ - 1) - 1;
}

void ClipMosaic::place(int t, int& run, int& index) const noexcept {
  if (t < request_frames_) {
    run = 0;
    index = t;
    return;
  }
  run = 1 + (t - request_frames_) / (request_frames_ - 1);
  index = t - run_start(run);
}

ClipMosaic::Spot ClipMosaic::locate(int frame) const noexcept {
  const int t = frame == 0 ? 0 : (frame + tc_ - 1) / tc_;
  int run = 0, index = 0;
  place(t, run, index);
  Spot spot;
  // Latent frame 0 of a request decodes to one frame, each later one to tc.
  spot.frame = index == 0 ? 0 : tc_ * (index - 1) + 1 + (frame - (tc_ * (t - 1) + 1));
  const int cell_h = slot_height_ + 2 * gutter_, cell_w = slot_width_ + 2 * gutter_;
  spot.y = ((run / columns_) * cell_h + gutter_) * 8;
  spot.x = ((run % columns_) * cell_w + gutter_) * 8;
  return spot;
}

Result<Tensor> ClipMosaic::build(const TensorView& small, const TensorView& clip) const {
  const Shape& s = small.shape;
  if (s.size() != 5 || s[2] != latent_frames_ || s[3] != slot_height_ || s[4] != slot_width_ ||
      clip.shape.size() != 5 || clip.shape[0] != s[0] || clip.shape[1] != s[1] ||
      clip.shape[2] != s[2]) {
    return Error(ErrorCode::kInternal, "the colour reference's latents do not fit its layout");
  }
  const auto planes = static_cast<std::size_t>(s[0] * s[1]);
  const auto frames = static_cast<std::size_t>(latent_frames_);
  const auto slot_plane = static_cast<std::size_t>(slot_height_ * slot_width_);
  const auto clip_plane = static_cast<std::size_t>(clip.shape[3] * clip.shape[4]);
  const int cell_h = slot_height_ + 2 * gutter_, cell_w = slot_width_ + 2 * gutter_;
  const int out_h = height(), out_w = width();
  const auto out_plane = static_cast<std::size_t>(out_h) * static_cast<std::size_t>(out_w);
  const auto out_frames = static_cast<std::size_t>(request_frames_);
  std::vector<float> out(planes * out_frames * out_plane);
  const auto* src = static_cast<const std::uint8_t*>(small.data);
  const auto* whole = static_cast<const std::uint8_t*>(clip.data);
  for (std::size_t p = 0; p < planes; ++p) {
    double clip_sum = 0.0;
    for (std::size_t i = 0; i < frames * clip_plane; ++i)
      clip_sum += internal::load_float(clip.dtype, whole, p * frames * clip_plane + i);
    const double clip_mean = clip_sum / static_cast<double>(frames * clip_plane);
    float* plane = out.data() + p * out_frames * out_plane;
    double content_sum = 0.0;
    std::size_t content = 0;
    for (int run = 0; run < runs_; ++run) {
      const int y0 = (run / columns_) * cell_h, x0 = (run % columns_) * cell_w;
      for (int j = 0; j < request_frames_; ++j) {
        const int t = run_start(run) + j;
        if (t >= latent_frames_) break;
        const std::size_t base = (p * frames + static_cast<std::size_t>(t)) * slot_plane;
        float* frame = plane + static_cast<std::size_t>(j) * out_plane;
        for (int y = 0; y < cell_h; ++y) {
          const int sy = std::clamp(y - gutter_, 0, slot_height_ - 1);
          for (int x = 0; x < cell_w; ++x) {
            const int sx = std::clamp(x - gutter_, 0, slot_width_ - 1);
            const float v = internal::load_float(
                small.dtype, src, base + static_cast<std::size_t>(sy * slot_width_ + sx));
            frame[static_cast<std::size_t>(y0 + y) * static_cast<std::size_t>(out_w) +
                  static_cast<std::size_t>(x0 + x)] = v;
            content_sum += v;
          }
        }
        content += static_cast<std::size_t>(cell_h * cell_w);
      }
    }
    // Everything else is filler: the value that brings the request's mean to the clip's.
    const std::size_t total = out_frames * out_plane;
    const auto filler = static_cast<float>((static_cast<double>(total) * clip_mean - content_sum) /
                                           static_cast<double>(total - content));
    for (int slot = 0; slot < rows_ * columns_; ++slot) {
      const int y0 = (slot / columns_) * cell_h, x0 = (slot % columns_) * cell_w;
      for (int j = 0; j < request_frames_; ++j) {
        if (slot < runs_ && run_start(slot) + j < latent_frames_) continue;
        float* frame = plane + static_cast<std::size_t>(j) * out_plane;
        for (int y = 0; y < cell_h; ++y)
          std::fill_n(frame + static_cast<std::size_t>(y0 + y) * static_cast<std::size_t>(out_w) +
                          static_cast<std::size_t>(x0),
                      cell_w, filler);
      }
    }
  }
  RVAE_ASSIGN_OR_RETURN(Tensor floats,
                        Tensor::from_floats({s[0], s[1], request_frames_, out_h, out_w}, out));
  return convert(floats.view(), small.dtype);
}

}  // namespace rvae::detail
