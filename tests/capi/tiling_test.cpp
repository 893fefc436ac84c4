// The tiling fields of the C decode and encode params: each takes effect, seen as the number of
// requests the reference endpoint answered (tiles, plus one colour reference unless disabled).
#include <cstddef>
#include <string>
#include <vector>

#include "capi/capi.hpp"
#include "capi/capi_fixture.hpp"

namespace {

using rvae_capi_test::CapiTest;
using rvae_capi_test::expect_error;
using rvae_capi_test::Latents;
using rvae_capi_test::ResultPtr;
using rvae_capi_test::store_raw;

class CapiTiling : public CapiTest {
 protected:
  // Requests one rvae_decode_full call made, or 0 when it failed.
  std::size_t decode_requests(const Latents& latents, const rvae_decode_params& params) {
    const rvae_tensor_view view = latents.view();
    const std::size_t before = endpoint_.total_requests();
    rvae_decode_result* raw = nullptr;
    rvae_error* err = nullptr;
    const int status =
        rvae_decode_full(client_, url("/sd15/decode/").c_str(), &view, &params, &raw, &err);
    ResultPtr result(raw);
    EXPECT_EQ(status, RVAE_OK) << rvae_error_message(err);
    rvae_error_free(err);
    if (status != RVAE_OK) return 0;
    EXPECT_EQ(result->image_count, 1u);
    EXPECT_EQ(result->images[0].height, static_cast<uint32_t>(latents.shape[2] * 8));
    EXPECT_EQ(result->images[0].width, static_cast<uint32_t>(latents.shape[3] * 8));
    return endpoint_.total_requests() - before;
  }
};

// 768 x 768 pixels: below the default cap, above a cap of 512 (tiles of 64 latent pixels, so the
// default overlap of 16 is less than half a tile).
const std::vector<std::int64_t> kShape = {1, 4, 96, 96};

TEST_F(CapiTiling, MaxImageSideTilesADecode) {
  const Latents latents(kShape);
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  EXPECT_EQ(params.tile_mode, RVAE_TILE_AUTO);
  EXPECT_EQ(params.max_image_side, 0);
  EXPECT_EQ(decode_requests(latents, params), 1u);

  params.max_image_side = 512;
  EXPECT_EQ(decode_requests(latents, params), 4u + 1u);  // 2 x 2 tiles and the reference
  params.tile_colour_reference = RVAE_TILE_NONE;
  EXPECT_EQ(decode_requests(latents, params), 4u);
  params.tile_mode = RVAE_TILE_OFF;  // the reference endpoint's own cap is 2048
  EXPECT_EQ(decode_requests(latents, params), 1u);
}

TEST_F(CapiTiling, TileSizeAndModeOn) {
  const Latents latents(kShape);
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  params.tile_mode = RVAE_TILE_ON;
  params.tile_colour_reference = RVAE_TILE_NONE;
  EXPECT_EQ(decode_requests(latents, params), 1u);  // one tile of at most 2048 holds it all
  params.tile_size = 256;
  params.tile_overlap = RVAE_TILE_NONE;  // abutting: 3 x 3 tiles of 256 pixels
  EXPECT_EQ(decode_requests(latents, params), 9u);
  params.tile_overlap = 4;  // 32 pixels shared: 3 tiles of 256 no longer span 768
  EXPECT_EQ(decode_requests(latents, params), 16u);
}

// A decode wider than the preset's cap of 2048 is tiled with no cap set by the caller; the
// reference endpoint (cap 2048) would refuse it whole.
TEST_F(CapiTiling, ThePresetsCapApplies) {
  const Latents latents({1, 4, 8, 264});  // 64 x 2112 pixels
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  EXPECT_EQ(decode_requests(latents, params), 2u + 1u);
}

TEST(CapiTilingOf, CapFromTheCallerThenThePresetThenTheDefault) {
  rvae::ModelPreset small;
  small.max_image_side = 640;
  rvae::capi::TilingFields fields;
  rvae::Result<rvae::TilingOptions> tiling = rvae::capi::tiling_of(fields, &small, "f");
  ASSERT_TRUE(tiling) << tiling.error().what();
  EXPECT_EQ(tiling->max_image_side, 640);
  EXPECT_EQ(tiling->mode, rvae::TileMode::kAuto);
  EXPECT_EQ(tiling->tile_size, 0);
  EXPECT_EQ(tiling->overlap, rvae::TilingOptions{}.overlap);
  EXPECT_TRUE(tiling->colour_reference);
  EXPECT_EQ(tiling->max_in_flight, rvae::TilingOptions{}.max_in_flight);

  // The C spellings of "none" and a window size reach the C++ settings.
  fields.overlap = RVAE_TILE_NONE;
  fields.colour_reference = RVAE_TILE_NONE;
  fields.max_in_flight = 3;
  tiling = rvae::capi::tiling_of(fields, &small, "f");
  ASSERT_TRUE(tiling) << tiling.error().what();
  EXPECT_EQ(tiling->overlap, 0);
  EXPECT_FALSE(tiling->colour_reference);
  EXPECT_EQ(tiling->max_in_flight, 3u);

  fields.max_image_side = 1024;
  EXPECT_EQ(rvae::capi::tiling_of(fields, &small, "f")->max_image_side, 1024);
  fields.max_image_side = 0;
  EXPECT_EQ(rvae::capi::tiling_of(fields, nullptr, "f")->max_image_side,
            rvae::TilingOptions{}.max_image_side);
}

TEST_F(CapiTiling, EncodeTilesAboveMaxImageSide) {
  std::vector<uint8_t> pixels(768 * 768 * 3, 90);
  const rvae_image image{768, 768, 3, pixels.data()};
  rvae_encode_params params;
  rvae_encode_params_init(&params, "sd15");
  params.max_image_side = 512;
  const std::size_t before = endpoint_.total_requests();
  rvae_tensor latents;
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_encode(client_, url("/sd15/encode/").c_str(), &image, &params, &latents, &err),
            RVAE_OK)
      << rvae_error_message(err);
  EXPECT_EQ(latents.shape[2], 96);
  EXPECT_EQ(latents.shape[3], 96);
  rvae_tensor_free(&latents);
  EXPECT_EQ(endpoint_.total_requests() - before, 4u + 1u);
}

TEST_F(CapiTiling, BadValuesAreRefusedBeforeSending) {
  const Latents latents(kShape);
  const rvae_tensor_view view = latents.view();
  struct Case {
    void (*set)(rvae_decode_params*);
    const char* fragment;
  };
  const Case cases[] = {
      {[](rvae_decode_params* p) { store_raw(&p->tile_mode, 3); }, "tile_mode 3"},
      {[](rvae_decode_params* p) { p->tile_size = -8; }, "tile_size"},
      {[](rvae_decode_params* p) { p->tile_overlap = -2; }, "tile_overlap"},
      {[](rvae_decode_params* p) { p->max_image_side = -1; }, "max_image_side"},
      {[](rvae_decode_params* p) { p->tile_colour_reference = 2; }, "tile_colour_reference"},
  };
  for (const Case& c : cases) {
    rvae_decode_params params;
    rvae_decode_params_init(&params, "sd15");
    c.set(&params);
    rvae_decode_result* result = nullptr;
    rvae_error* err = nullptr;
    expect_error(
        rvae_decode_full(client_, url("/sd15/decode/").c_str(), &view, &params, &result, &err), err,
        RVAE_ERR_INVALID_ARGUMENT, c.fragment);
    EXPECT_EQ(result, nullptr);
  }
  rvae_encode_params encode;
  rvae_encode_params_init(&encode, "sd15");
  encode.tile_overlap = -5;
  std::vector<uint8_t> pixels(16 * 16 * 3, 0);
  const rvae_image image{16, 16, 3, pixels.data()};
  rvae_tensor out;
  rvae_error* err = nullptr;
  expect_error(rvae_encode(client_, url("/sd15/encode/").c_str(), &image, &encode, &out, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "tile_overlap");
  EXPECT_EQ(endpoint_.total_requests(), 0u);
}

// A batch tiles each item as a single call would (before, batches sent every item whole).
TEST_F(CapiTiling, BatchItemsAreTiledLikeSingleCalls) {
  const Latents first(kShape);
  const Latents second(kShape);
  const rvae_tensor_view views[2] = {first.view(), second.view()};
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  params.max_image_side = 512;
  rvae_decode_result* results[2] = {nullptr, nullptr};
  rvae_error* err = nullptr;
  const std::size_t before = endpoint_.total_requests();
  const int status = rvae_decode_batch(client_, url("/sd15/decode/").c_str(), views, 2, &params,
                                       results, nullptr, &err);
  ResultPtr a(results[0]);
  ResultPtr b(results[1]);
  ASSERT_EQ(status, RVAE_OK) << rvae_error_message(err);
  EXPECT_EQ(endpoint_.total_requests() - before, 2u * (4u + 1u));
  for (const ResultPtr* result : {&a, &b}) {
    ASSERT_NE(result->get(), nullptr);
    ASSERT_EQ((*result)->image_count, 1u);
    EXPECT_EQ((*result)->images[0].width, 768u);
    EXPECT_EQ((*result)->images[0].height, 768u);
  }
}

}  // namespace
