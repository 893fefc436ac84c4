// PNG/JPEG decode and encode through the codec layer, in megapixels per second. Compare MP/s
// across rows: it normalises for image size. JPEG decode runs each backend compiled in
// (stb_image always, libjpeg-turbo when found, on one thread and split over two), all behind the
// same pre-scan decode_image uses, timed in wall time (the split's second thread is not the
// caller's CPU time); PNG decode runs stb against the libdeflate fast path (png_reader.hpp); PNG
// encode runs stb_image_write against the libdeflate writer at both settings. Besides tests/data,
// JPEGs and PNG sources in $RVAE_BENCH_DATA (scripts/bench-codecs.sh writes 1024² and 2048²
// photo-like ones there) are measured too.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "codec/image_layout.hpp"
#include "codec/jpeg_backend.hpp"
#include "codec/jpeg_split.hpp"
#include "codec/png_reader.hpp"
#include "codec/png_writer.hpp"
#include "codec/stb_bridge.hpp"
#include "rvae/image.hpp"

#if defined(RVAE_HAVE_TURBOJPEG)
#include <turbojpeg.h>
#endif
#if defined(RVAE_HAVE_LIBDEFLATE)
#include <libdeflate.h>
#endif

namespace {

rvae::Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return rvae::Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

rvae::Bytes read_test_file(const std::string& name) {
  return read_file(std::string(RVAE_TEST_DATA_DIR) + "/" + name);
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

enum class PngReader { kStb, kFast };

// One PNG decoder alone, on a file the fast path takes (the rows say so when it does not).
void BM_PngDecode(benchmark::State& state, PngReader reader, const rvae::Bytes& bytes,
                  int channels) {
  rvae::codec_detail::DecodedPixels pixels;
  for (auto _ : state) {
    const bool ok =
        reader == PngReader::kFast
            ? rvae::codec_detail::fast_decode_png(bytes.data(), bytes.size(), channels, &pixels)
            : rvae::codec_detail::stb_decode_png(bytes.data(), static_cast<int>(bytes.size()),
                                                 channels, &pixels)
                  .ok;
    if (!ok) {
      state.SkipWithError("not decoded by this reader");
      return;
    }
    benchmark::DoNotOptimize(pixels.pixels.data());
  }
  rvae::Image image;
  image.width = pixels.width;
  image.height = pixels.height;
  image.channels = channels;
  report_megapixels(state, image);
}

// kTurbo is decode_image's default path: two threads for a large sequential JPEG when a core is
// free. kTurboOneThread is max_threads 1, what a batch keeping every core busy gets too.
enum class JpegBackend { kStb, kTurbo, kTurboOneThread };

// The pre-scan and one backend: decode_image's JPEG path with the backend chosen here.
bool decode_jpeg(JpegBackend backend, const rvae::Bytes& bytes,
                 rvae::codec_detail::DecodedPixels* out) {
  const auto layout = rvae::codec_detail::scan_jpeg(bytes.data(), bytes.size());
  if (layout.problem) return false;
#if defined(RVAE_HAVE_TURBOJPEG)
  if (backend != JpegBackend::kStb) {
    const int threads = backend == JpegBackend::kTurboOneThread ? 1 : 2;
    return rvae::codec_detail::turbo_decode_jpeg_rgb(bytes.data(), bytes.size(), layout.jpeg, out,
                                                     threads)
        .ok;
  }
#else
  if (backend != JpegBackend::kStb) return false;
#endif
  return rvae::codec_detail::stb_decode_jpeg_rgb(bytes.data(), bytes.size(), out).ok;
}

void BM_JpegDecode(benchmark::State& state, JpegBackend backend, const rvae::Bytes& bytes) {
  rvae::codec_detail::DecodedPixels pixels;
  if (!decode_jpeg(backend, bytes, &pixels)) {
    state.SkipWithError("cannot decode with this backend (not built, or not a JPEG)");
    return;
  }
  // Into the same buffer each time, as the client decodes into recycled ones: the rows time the
  // decoders, not the kernel faulting in 3 MiB of fresh pages.
  rvae::Bytes storage;
  for (auto _ : state) {
    rvae::codec_detail::DecodedPixels decoded;
    decoded.pixels = std::move(storage);
    benchmark::DoNotOptimize(decode_jpeg(backend, bytes, &decoded));
    storage = std::move(decoded.pixels);
  }
  rvae::Image shape;
  shape.width = pixels.width;
  shape.height = pixels.height;
  shape.channels = 3;
  report_megapixels(state, shape);
}

enum class PngWriter { kStb, kDeflateFast, kDeflateSmall };

void BM_PngEncode(benchmark::State& state, PngWriter writer, const rvae::Image& image) {
  std::size_t encoded_size = 0;
  for (auto _ : state) {
    rvae::Bytes out;
    bool ok = false;
    if (writer == PngWriter::kStb) {
      ok = rvae::codec_detail::stb_encode_png(image.pixels.data(), image.width, image.height,
                                              image.channels, &out)
               .ok;
    } else {
#if defined(RVAE_HAVE_LIBDEFLATE)
      ok = rvae::codec_detail::deflate_write_png(image.pixels.data(), image.width, image.height,
                                                 image.channels,
                                                 writer == PngWriter::kDeflateFast ? 1 : 10, &out);
#endif
    }
    if (!ok) {
      state.SkipWithError("encoder not built or failed");
      return;
    }
    encoded_size = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["out_KiB"] = static_cast<double>(encoded_size) / 1024.0;
  report_megapixels(state, image);
}

void BM_EncodeJpeg95(benchmark::State& state, const char* file) {
  const rvae::Bytes bytes = read_test_file(file);
  const rvae::Image image = rvae::decode_image(bytes.data(), bytes.size()).value();
  for (auto _ : state) {
    rvae::Result<rvae::Bytes> encoded = rvae::encode_jpeg(image, 95);
    benchmark::DoNotOptimize(encoded);
  }
  report_megapixels(state, image);
}

BENCHMARK_CAPTURE(BM_Decode, png_astronaut, "astronaut.png")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, png_coffee, "coffee.png")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, png_logo_rgba, "logo.png")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeJpeg95, astronaut, "astronaut.png")->Unit(benchmark::kMillisecond);

// What a decode's own library handle costs to make and free: jpeg_turbo.cpp and png_reader.cpp
// make one per decode rather than keep one per thread (handle_pool.hpp says why). Compare with
// the decode rows above.
#if defined(RVAE_HAVE_TURBOJPEG)
void BM_DecoderHandle_turbojpeg(benchmark::State& state) {
  for (auto _ : state) {
    tjhandle handle = tjInitDecompress();
    benchmark::DoNotOptimize(handle);
    tjDestroy(handle);
  }
}
BENCHMARK(BM_DecoderHandle_turbojpeg);
#endif
#if defined(RVAE_HAVE_LIBDEFLATE)
void BM_DecoderHandle_libdeflate(benchmark::State& state) {
  for (auto _ : state) {
    libdeflate_decompressor* decompressor = libdeflate_alloc_decompressor();
    benchmark::DoNotOptimize(decompressor);
    libdeflate_free_decompressor(decompressor);
  }
}
BENCHMARK(BM_DecoderHandle_libdeflate);
#endif

// Registers the JPEG and PNG-encode rows for the test images and $RVAE_BENCH_DATA's files.
int register_codec_benchmarks() {
  static std::vector<std::pair<std::string, rvae::Bytes>> jpegs;
  static std::vector<std::pair<std::string, rvae::Image>> sources;
  for (const char* name :
       {"rocket.jpg", "hubble_deep_field.jpg", "retina.jpg", "astronaut_progressive.jpg"}) {
    jpegs.emplace_back(name, read_test_file(name));
  }
  const rvae::Bytes astronaut = read_test_file("astronaut.png");
  sources.emplace_back("astronaut.png",
                       rvae::decode_image(astronaut.data(), astronaut.size()).value());
  if (const char* dir = std::getenv("RVAE_BENCH_DATA")) {
    for (const char* name : {"photo_1024.jpg", "clean_1024.jpg", "photo_2048.jpg"}) {
      rvae::Bytes bytes = read_file(std::string(dir) + "/" + name);
      if (!bytes.empty()) jpegs.emplace_back(name, std::move(bytes));
    }
    for (const char* name : {"photo_1024.png", "photo_2048.png"}) {
      const rvae::Bytes bytes = read_file(std::string(dir) + "/" + name);
      if (bytes.empty()) continue;
      if (auto image = rvae::decode_image(bytes.data(), bytes.size())) {
        sources.emplace_back(name, std::move(*image));
      }
    }
  }
  static std::vector<std::pair<std::string, rvae::Bytes>> pngs;
  for (const char* name : {"astronaut.png", "coffee.png", "logo.png"})
    pngs.emplace_back(name, read_test_file(name));
  if (const char* dir = std::getenv("RVAE_BENCH_DATA")) {
    for (const char* name : {"photo_1024.png", "photo_2048.png"}) {
      rvae::Bytes bytes = read_file(std::string(dir) + "/" + name);
      if (!bytes.empty()) pngs.emplace_back(name, std::move(bytes));
    }
  }
  for (const auto& [name, bytes] : pngs) {
    const int channels = name == "logo.png" ? 4 : 3;
    benchmark::RegisterBenchmark(("BM_PngDecode/stb/" + name).c_str(), BM_PngDecode,
                                 PngReader::kStb, bytes, channels)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_PngDecode/fast/" + name).c_str(), BM_PngDecode,
                                 PngReader::kFast, bytes, channels)
        ->Unit(benchmark::kMillisecond);
  }
  for (const auto& [name, bytes] : jpegs) {
    benchmark::RegisterBenchmark(("BM_JpegDecode/stb/" + name).c_str(), BM_JpegDecode,
                                 JpegBackend::kStb, bytes)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
#if defined(RVAE_HAVE_TURBOJPEG)
    benchmark::RegisterBenchmark(("BM_JpegDecode/turbo_one_thread/" + name).c_str(), BM_JpegDecode,
                                 JpegBackend::kTurboOneThread, bytes)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("BM_JpegDecode/turbo/" + name).c_str(), BM_JpegDecode,
                                 JpegBackend::kTurbo, bytes)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
#endif
  }
  for (const auto& [name, image] : sources) {
    benchmark::RegisterBenchmark(("BM_PngEncode/stb/" + name).c_str(), BM_PngEncode,
                                 PngWriter::kStb, image)
        ->Unit(benchmark::kMillisecond);
#if defined(RVAE_HAVE_LIBDEFLATE)
    benchmark::RegisterBenchmark(("BM_PngEncode/deflate_fast/" + name).c_str(), BM_PngEncode,
                                 PngWriter::kDeflateFast, image)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_PngEncode/deflate_small/" + name).c_str(), BM_PngEncode,
                                 PngWriter::kDeflateSmall, image)
        ->Unit(benchmark::kMillisecond);
#endif
  }
  return 0;
}

const int registered = register_codec_benchmarks();

}  // namespace
