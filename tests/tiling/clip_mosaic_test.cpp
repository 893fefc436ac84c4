// The frame-capped colour reference's layout: every latent frame of the clip in one slot, after
// its past; edges replicated into the gutter; the request's per-channel mean the clip's.
#include "tiling/clip_mosaic.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "rvae/tensor.hpp"

namespace rvae::detail {
namespace {

// 33 latent frames (129 output frames) in requests of 5: runs of 5, then 4 new frames after a
// past frame each: 8 runs and a filler slot, a 3 x 3 grid.
TEST(ClipMosaicTest, EveryFrameSitsInOneSlotAfterItsPast) {
  const ClipMosaic m = ClipMosaic::plan(33, 5, 2, 3, 1, 4);
  EXPECT_EQ(m.runs(), 8);
  EXPECT_EQ(m.height(), 3 * (2 + 2));
  EXPECT_EQ(m.width(), 3 * (3 + 2));
  EXPECT_EQ(m.output_frames(), 17);
  // Frame 0 and latent frame 1's frames 1..4 come from the first run.
  EXPECT_EQ(m.locate(0).frame, 0);
  EXPECT_EQ(m.locate(0).y, 8);
  EXPECT_EQ(m.locate(0).x, 8);
  EXPECT_EQ(m.locate(4).frame, 4);
  EXPECT_EQ(m.locate(16).frame, 16);  // latent frame 4, the last of the first run
  // Latent frame 5 (frames 17..20) is the second of the second run, whose first is its past:
  // request frames 1..4.
  EXPECT_EQ(m.locate(17).frame, 1);
  EXPECT_EQ(m.locate(20).frame, 4);
  EXPECT_EQ(m.locate(17).x, (5 + 1) * 8);
  EXPECT_EQ(m.locate(17).y, 8);
  // The last frame: latent frame 32, in run 7 (row 2, column 1), its fifth request frame.
  const ClipMosaic::Spot last = m.locate(128);
  EXPECT_EQ(last.frame, 16);
  EXPECT_EQ(last.y, (2 * 4 + 1) * 8);
  EXPECT_EQ(last.x, (1 * 5 + 1) * 8);
}

TEST(ClipMosaicTest, AClipThatFitsIsOneRun) {
  const ClipMosaic m = ClipMosaic::plan(5, 5, 4, 4, 0, 4);
  EXPECT_EQ(m.runs(), 1);
  EXPECT_EQ(m.locate(16).frame, 16);
}

TEST(ClipMosaicTest, BuildsSlotsWithGuttersAndTheClipsMean) {
  // One item, 2 channels, 7 frames of 2 x 2, in requests of 3: runs [0,3), [2,5), [4,7).
  const int frames = 7;
  std::vector<float> values;
  for (int c = 0; c < 2; ++c)
    for (int t = 0; t < frames; ++t)
      for (int p = 0; p < 4; ++p)
        values.push_back(static_cast<float>(c * 10 + t) + 0.25f * static_cast<float>(p));
  const Tensor clip = Tensor::from_floats({1, 2, frames, 2, 2}, values).value();
  const ClipMosaic m = ClipMosaic::plan(frames, 3, 2, 2, 1, 4);
  ASSERT_EQ(m.runs(), 3);
  Result<Tensor> built = m.build(clip.view(), clip.view());
  ASSERT_TRUE(built) << built.error().what();
  ASSERT_EQ(built->shape(), (Shape{1, 2, 3, m.height(), m.width()}));
  const std::vector<float> v = built->to_floats();
  const auto w = static_cast<std::size_t>(m.width());
  const std::size_t plane = static_cast<std::size_t>(m.height()) * w;
  auto at = [&](int c, int j, int y, int x) {
    return v[(static_cast<std::size_t>(c) * 3 + static_cast<std::size_t>(j)) * plane +
             static_cast<std::size_t>(y) * w + static_cast<std::size_t>(x)];
  };
  // Run 1 (the second slot: row 0, column 1 of a 2 x 2 grid) starts at latent frame 2.
  EXPECT_FLOAT_EQ(at(0, 0, 1, 4 + 1), 2.0f);
  EXPECT_FLOAT_EQ(at(0, 1, 2, 4 + 2), 3.75f);   // frame 3, pixel (1, 1)
  EXPECT_FLOAT_EQ(at(1, 2, 0, 4 + 0), 14.0f);   // the gutter's corner: pixel (0, 0) of frame 4
  EXPECT_FLOAT_EQ(at(1, 2, 3, 4 + 3), 14.75f);  // and the opposite one: pixel (1, 1)
  for (int c = 0; c < 2; ++c) {
    double clip_sum = 0, request_sum = 0;
    for (std::size_t i = 0; i < values.size() / 2; ++i)
      clip_sum += values[static_cast<std::size_t>(c) * values.size() / 2 + i];
    for (std::size_t i = 0; i < 3 * plane; ++i)
      request_sum += v[static_cast<std::size_t>(c) * 3 * plane + i];
    EXPECT_NEAR(request_sum / static_cast<double>(3 * plane),
                clip_sum / static_cast<double>(values.size() / 2), 1e-5)
        << "channel " << c;
  }
}

TEST(ClipMosaicTest, LatentsThatDoNotFitTheLayoutAreAnInternalError) {
  const Tensor clip = Tensor::zeros({1, 2, 4, 2, 2}, DType::kFloat32).value();
  const ClipMosaic m = ClipMosaic::plan(5, 3, 2, 2, 1, 4);
  Result<Tensor> built = m.build(clip.view(), clip.view());
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace rvae::detail
