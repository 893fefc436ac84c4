// struct_size versioning: a program built against the first rvae.h passes structs that end at
// that header's last field, and each must keep working as fields are added after it.
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "capi/capi_fixture.hpp"

namespace {

using rvae_capi_test::CapiTest;
using rvae_capi_test::expect_error;
using rvae_capi_test::Latents;

// The first rvae.h's sizes, spelled from the fields that header ended with (git log -p
// include/rvae/rvae.h), not from the library's own constants.
constexpr std::size_t kFirstDecodeParams =
    offsetof(rvae_decode_params, batch_max_in_flight) + sizeof(size_t);
constexpr std::size_t kFirstEncodeParams =
    offsetof(rvae_encode_params, progress_user_data) + sizeof(void*);
constexpr std::size_t kFirstPreset = offsetof(rvae_preset, packed_latents) + sizeof(int);
// rvae_decode_params before the stream fields ended with output_name.
constexpr std::size_t kProtocolDecodeParams =
    offsetof(rvae_decode_params, output_name) + sizeof(const char*);

// Fills every byte past `size` with 0xA5: a field the library reads from there is garbage, as
// it would be past the end of an older program's struct.
template <typename Struct>
void poison_after(Struct* s, std::size_t size) {
  std::memset(reinterpret_cast<unsigned char*>(s) + size, 0xA5, sizeof(Struct) - size);
}

// A struct of the first version, with guard bytes where a newer struct's fields would be.
template <typename Struct>
struct Guarded {
  alignas(Struct) unsigned char bytes[sizeof(Struct) + 64];
  Guarded() { std::memset(bytes, 0xA5, sizeof bytes); }
  Struct* get() { return reinterpret_cast<Struct*>(bytes); }
  bool untouched_from(std::size_t offset) const {
    for (std::size_t i = offset; i < sizeof bytes; ++i) {
      if (bytes[i] != 0xA5) return false;
    }
    return true;
  }
};

TEST_F(CapiTest, DecodeParamsOfTheFirstHeaderAreAccepted) {
  const Latents latents({1, 4, 8, 6});
  const rvae_tensor_view view = latents.view();
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  params.struct_size = kFirstDecodeParams;
  poison_after(&params, kFirstDecodeParams);
  rvae_image image;
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_decode(client_, url("/sd15/decode/").c_str(), &view, &params, &image, &err),
            RVAE_OK)
      << rvae_error_message(err);
  EXPECT_EQ(err, nullptr);
  EXPECT_EQ(image.width, 48u);
  rvae_image_free(&image);

  params.struct_size = kFirstDecodeParams - 1;
  expect_error(rvae_decode(client_, url("/sd15/decode/").c_str(), &view, &params, &image, &err),
               err, RVAE_ERR_INVALID_ARGUMENT, "struct_size");
}

// A program built before the stream fields: its replies are held whole, whatever lies past its
// struct (garbage callbacks there would crash if read).
TEST_F(CapiTest, DecodeParamsWithoutTheStreamFieldsHoldTheReply) {
  const Latents latents({2, 4, 8, 6});
  const rvae_tensor_view view = latents.view();
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  params.output_type = RVAE_OUTPUT_UINT8;
  params.struct_size = kProtocolDecodeParams;
  poison_after(&params, kProtocolDecodeParams);
  rvae_decode_result* raw = nullptr;
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_decode_full(client_, url("/sd15/decode/").c_str(), &view, &params, &raw, &err),
            RVAE_OK)
      << rvae_error_message(err);
  rvae_capi_test::ResultPtr result(raw);
  EXPECT_EQ(result->image_count, 2u);
  EXPECT_EQ(result->streamed, 0);
  EXPECT_EQ(result->frames_delivered, 0);

  // The sized init of such a program writes nothing past its struct.
  Guarded<rvae_decode_params> old;
  rvae_decode_params_init_sized(old.get(), kProtocolDecodeParams, "sd15");
  EXPECT_TRUE(old.untouched_from(kProtocolDecodeParams));
  EXPECT_EQ(old.get()->struct_size, kProtocolDecodeParams);
}

TEST_F(CapiTest, EncodeParamsOfTheFirstHeaderAreAccepted) {
  std::vector<uint8_t> pixels(40 * 24 * 3, 100);
  const rvae_image image{40, 24, 3, pixels.data()};
  rvae_encode_params params;
  rvae_encode_params_init(&params, "sd15");
  params.struct_size = kFirstEncodeParams;
  poison_after(&params, kFirstEncodeParams);
  rvae_tensor latents;
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_encode(client_, url("/sd15/encode/").c_str(), &image, &params, &latents, &err),
            RVAE_OK)
      << rvae_error_message(err);
  EXPECT_EQ(err, nullptr);
  EXPECT_EQ(latents.shape[3], 5);
  rvae_tensor_free(&latents);

  params.struct_size = kFirstEncodeParams - 1;
  expect_error(rvae_encode(client_, url("/sd15/encode/").c_str(), &image, &params, &latents, &err),
               err, RVAE_ERR_INVALID_ARGUMENT, "struct_size");
}

TEST(CapiPresetSize, FirstVersionGetsItsFieldsOnly) {
  rvae_preset preset;
  std::memset(&preset, 0xA5, sizeof preset);
  preset.struct_size = kFirstPreset;
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_preset_get("flux", &preset, &err), RVAE_OK) << rvae_error_message(err);
  EXPECT_EQ(err, nullptr);
  EXPECT_STREQ(preset.name, "flux");
  EXPECT_EQ(preset.latent_channels, 16);
  EXPECT_EQ(preset.packed_latents, 1);
  EXPECT_EQ(preset.struct_size, kFirstPreset);  // the caller's, untouched
  // Past the caller's struct: not written.
  const std::vector<unsigned char> after(reinterpret_cast<unsigned char*>(&preset) + kFirstPreset,
                                         reinterpret_cast<unsigned char*>(&preset + 1));
  EXPECT_EQ(after, std::vector<unsigned char>(sizeof preset - kFirstPreset, 0xA5));
}

TEST(CapiPresetSize, CurrentSizeGetsEveryField) {
  rvae_preset preset;
  preset.struct_size = sizeof preset;
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_preset_get("sdxl", &preset, &err), RVAE_OK) << rvae_error_message(err);
  EXPECT_EQ(preset.max_image_side, 2048);
}

// A program built against a newer rvae.h, whose rvae_preset has grown: today's fields are
// filled, the bytes after them are left alone.
TEST(CapiPresetSize, LargerStructGetsTodaysFields) {
  struct Newer {
    rvae_preset today;
    double added_later;
  } newer;
  newer.added_later = 42.0;
  newer.today.struct_size = sizeof newer;
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_preset_get("sd15", &newer.today, &err), RVAE_OK) << rvae_error_message(err);
  EXPECT_EQ(err, nullptr);
  EXPECT_STREQ(newer.today.name, "sd15");
  EXPECT_EQ(newer.today.max_image_side, 2048);
  EXPECT_EQ(newer.added_later, 42.0);
  EXPECT_EQ(newer.today.struct_size, sizeof newer);
}

TEST(CapiPresetSize, BelowTheFirstVersionIsRefused) {
  rvae_preset preset;
  preset.struct_size = kFirstPreset - 1;
  rvae_error* err = nullptr;
  expect_error(rvae_preset_get("sd15", &preset, &err), err, RVAE_ERR_INVALID_ARGUMENT,
               "struct_size");
}

// A program built against an older rvae.h calls the plain exported init with its smaller
// struct: nothing past the first version may be written (the init used to write the whole
// current struct there).
TEST(CapiParamsInit, TheExportedInitsWriteOnlyTheFirstVersion) {
  Guarded<rvae_decode_params> decode;
  (rvae_decode_params_init)(decode.get(), "sd15");
  EXPECT_TRUE(decode.untouched_from(kFirstDecodeParams));
  EXPECT_EQ(decode.get()->struct_size, kFirstDecodeParams);
  EXPECT_EQ(decode.get()->has_scaling_factor, 1);

  Guarded<rvae_encode_params> encode;
  (rvae_encode_params_init)(encode.get(), "sd15");
  EXPECT_TRUE(encode.untouched_from(kFirstEncodeParams));
  EXPECT_EQ(encode.get()->struct_size, kFirstEncodeParams);

  constexpr std::size_t kFirstClientParams =
      offsetof(rvae_client_params, log_user_data) + sizeof(void*);
  Guarded<rvae_client_params> client;
  (rvae_client_params_init)(client.get());
  EXPECT_TRUE(client.untouched_from(kFirstClientParams));
  EXPECT_EQ(client.get()->struct_size, kFirstClientParams);
}

// The header's init macro passes the struct's size; an FFI caller passes its own.
TEST(CapiParamsInit, TheSizedInitsFillExactlyTheGivenSize) {
  rvae_decode_params full;
  rvae_decode_params_init(&full, "sd15");
  EXPECT_EQ(full.struct_size, sizeof(rvae_decode_params));
  EXPECT_EQ(full.tile_mode, RVAE_TILE_AUTO);

  Guarded<rvae_decode_params> old;
  rvae_decode_params_init_sized(old.get(), kFirstDecodeParams, "sdxl");
  EXPECT_TRUE(old.untouched_from(kFirstDecodeParams));
  EXPECT_EQ(old.get()->struct_size, kFirstDecodeParams);

  Guarded<rvae_decode_params> too_small;
  rvae_decode_params_init_sized(too_small.get(), kFirstDecodeParams - 1, "sdxl");
  EXPECT_TRUE(too_small.untouched_from(0));  // Nothing written: the call refuses it later.
}

}  // namespace
