// PNG/JPEG decode and encode through the codec layer (stb), in megapixels per second, on the
// test images. Compare MP/s across rows: it normalises for image size.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

#include "rvae/image.hpp"

namespace {

rvae::Bytes read_test_file(const std::string& name) {
  std::ifstream in(std::string(RVAE_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  return rvae::Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void report_megapixels(benchmark::State& state, const rvae::Image& image) {
  const double megapixels = static_cast<double>(image.width) * image.height / 1e6;
  state.counters["MP/s"] = benchmark::Counter(megapixels * static_cast<double>(state.iterations()),
                                              benchmark::Counter::kIsRate);
  state.SetLabel(std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
                 std::to_string(image.channels));
}

void BM_Decode(benchmark::State& state, const char* file) {
  const rvae::Bytes bytes = read_test_file(file);
  rvae::Result<rvae::Image> image = rvae::decode_image(bytes.data(), bytes.size());
  if (!image) {
    state.SkipWithError(image.error().what());
    return;
  }
  for (auto _ : state) {
    rvae::Result<rvae::Image> decoded = rvae::decode_image(bytes.data(), bytes.size());
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes.size()));
  report_megapixels(state, *image);
}

enum class Codec { kPng, kJpeg95 };

void BM_Encode(benchmark::State& state, const char* file, Codec codec) {
  const rvae::Bytes bytes = read_test_file(file);
  rvae::Result<rvae::Image> image = rvae::decode_image(bytes.data(), bytes.size());
  if (!image) {
    state.SkipWithError(image.error().what());
    return;
  }
  std::size_t encoded_size = 0;
  for (auto _ : state) {
    rvae::Result<rvae::Bytes> encoded =
        codec == Codec::kPng ? rvae::encode_png(*image) : rvae::encode_jpeg(*image, 95);
    encoded_size = encoded ? encoded->size() : 0;
    benchmark::DoNotOptimize(encoded);
  }
  state.counters["out_KiB"] = static_cast<double>(encoded_size) / 1024.0;
  report_megapixels(state, *image);
}

BENCHMARK_CAPTURE(BM_Decode, png_astronaut, "astronaut.png")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, png_coffee, "coffee.png")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, png_logo_rgba, "logo.png")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, jpeg_rocket, "rocket.jpg")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, jpeg_hubble, "hubble_deep_field.jpg")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, jpeg_retina, "retina.jpg")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, jpeg_progressive_astronaut, "astronaut_progressive.jpg")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, png_astronaut, "astronaut.png", Codec::kPng)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, jpeg95_astronaut, "astronaut.png", Codec::kJpeg95)
    ->Unit(benchmark::kMillisecond);

}  // namespace
