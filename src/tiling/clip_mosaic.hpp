// The colour reference of a chunked video decode when the endpoint caps the frames of a request:
// the whole clip, downsampled in space, laid out side by side in one request of few frames. Runs
// of consecutive latent frames sit in the slots of a grid, each run one frame longer than what
// it contributes so that its first kept frame has its past (a video decoder is causal); a gutter
// of replicated edges keeps the decoder's spatial reach inside each slot; the slots left over
// hold a filler whose value makes each channel's mean over the request the clip's mean. The
// request then normalises as the whole clip does, and each of the clip's frames is read back from
// its slot.
#pragma once

#include <cstdint>

#include "rvae/error.hpp"
#include "rvae/tensor.hpp"

namespace rvae::detail {

class ClipMosaic {
 public:
  /// A layout for a clip of `latent_frames` latent frames of `slot_height` x `slot_width`
  /// (downsampled), in requests of `request_frames` latent frames (at least 2), with `gutter`
  /// latent pixels of replicated edge around each slot and temporal compression `tc`.
  static ClipMosaic plan(int latent_frames, int request_frames, int slot_height, int slot_width,
                         int gutter, int tc) noexcept;

  int request_frames() const noexcept { return request_frames_; }
  int runs() const noexcept { return runs_; }
  /// The request's latent height and width.
  int height() const noexcept { return rows_ * (slot_height_ + 2 * gutter_); }
  int width() const noexcept { return columns_ * (slot_width_ + 2 * gutter_); }
  /// Output frames of the request.
  int output_frames() const noexcept { return tc_ * (request_frames_ - 1) + 1; }

  /// Where output frame `frame` of the clip is in the request's reply: the reply's frame and the
  /// top-left output pixel of the slot's content (slot_height * 8 x slot_width * 8).
  struct Spot {
    int frame = 0;
    int y = 0;
    int x = 0;
  };
  Spot locate(int frame) const noexcept;

  /// The request's latents [B, C, request_frames, height, width] in `small`'s dtype, from the
  /// downsampled clip `small` ([B, C, T, slot_height, slot_width]); the filler is set from each
  /// channel's mean over `clip` ([B, C, T, h, w]: the latents as the caller gave them).
  Result<Tensor> build(const TensorView& small, const TensorView& clip) const;

 private:
  // The run that holds latent frame t with its past, and t's frame within that run's request.
  void place(int t, int& run, int& index) const noexcept;
  int run_start(int run) const noexcept;

  int latent_frames_ = 1, request_frames_ = 2;
  int slot_height_ = 1, slot_width_ = 1, gutter_ = 0, tc_ = 4;
  int runs_ = 1, columns_ = 1, rows_ = 1;
};

}  // namespace rvae::detail
