// The stand-in VAE's tables and pseudo-inverse, checked against an independent transcription of
// PROTOCOL.md §1 and §6 and against linear algebra identities.
#include "testing/stand_in_vae.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "reference_test_support.hpp"
#include "support/published_models.hpp"

namespace rvae::reference {
namespace {

// The endpoint's own table (not the client's presets, which tests/model checks) against the
// hand-typed PROTOCOL.md §1 and §6: a wrong value in either side fails on its own.
TEST(StandInVae, MatchesProtocolTables) {
  // §9's per-channel models are checked against their own transcription in per_channel_test.cpp.
  std::size_t per_channel = 0;
  for (const char* name : {"wan2.1", "qwen-image"}) {
    bool published_too = false;
    for (const published::PublishedModel& m : published::published_models())
      published_too = published_too || m.name == name;
    if (!published_too) ++per_channel;
  }
  ASSERT_EQ(stand_in_vaes().size(), published::published_models().size() + per_channel);
  for (const published::PublishedModel& m : published::published_models()) {
    SCOPED_TRACE(m.name);
    const StandInVae* vae = find_stand_in_vae(m.name);
    ASSERT_NE(vae, nullptr);
    EXPECT_EQ(vae->name, m.name);
    EXPECT_EQ(vae->channels, m.latent_channels);
    EXPECT_EQ(vae->scaling, m.scaling_factor);
    EXPECT_EQ(vae->shift, m.shift_factor.value_or(0.0));
    EXPECT_EQ(vae->temporal_compression, m.temporal_compression);
    EXPECT_EQ(vae->is_video(), m.temporal_compression > 1);
    EXPECT_EQ(vae->can_encode, !m.encode_endpoint.empty());
    EXPECT_EQ(vae->dtype, m.dtype);
    ASSERT_EQ(vae->f.size(), m.f.size());
    for (std::size_t i = 0; i < m.f.size(); ++i)
      EXPECT_EQ(vae->f[i], m.f[i]) << "F[" << i / 3 << "][" << i % 3 << "]";
    for (std::size_t k = 0; k < 3; ++k)
      EXPECT_EQ(vae->bias[k], m.b[k]) << "b[" << k << "]";
  }
  EXPECT_EQ(find_stand_in_vae("sd3"), nullptr);
}

TEST(StandInVae, EncodeMapIsARightInverseOfFTransposed) {
  for (const testing_test::ModelTable& t : testing_test::model_tables()) {
    SCOPED_TRACE(t.name);
    const StandInVae* vae = find_stand_in_vae(t.name);
    ASSERT_NE(vae, nullptr);
    // F^T P = I (3x3).
    for (std::size_t k = 0; k < 3; ++k) {
      for (std::size_t j = 0; j < 3; ++j) {
        double sum = 0.0;
        for (std::size_t c = 0; c < static_cast<std::size_t>(t.channels); ++c) {
          sum += t.f[c * 3 + k] * vae->encode_map[c * 3 + j];
        }
        EXPECT_NEAR(sum, k == j ? 1.0 : 0.0, 1e-9);
      }
    }
    // rgb -> x -> rgb is the identity inside [-1, 1].
    const double rgb[3] = {0.25, -0.5, 0.75};
    std::vector<double> x(static_cast<std::size_t>(t.channels));
    vae->rgb_to_scaled_latent(rgb, x.data(), 1);
    double back[3];
    vae->scaled_latent_to_rgb(x.data(), 1, back);
    for (std::size_t k = 0; k < 3; ++k)
      EXPECT_NEAR(back[k], rgb[k], 1e-12);
  }
}

TEST(StandInVae, DecodeClampsToUnitRange) {
  const StandInVae* vae = find_stand_in_vae("sd15");
  ASSERT_NE(vae, nullptr);
  const double big[4] = {100.0, 100.0, 100.0, -100.0};  // F^T x = 100 * (col sums with c3 negated)
  double rgb[3];
  vae->scaled_latent_to_rgb(big, 1, rgb);
  for (double v : rgb)
    EXPECT_EQ(v, 1.0);
}

}  // namespace
}  // namespace rvae::reference
