// Bulk float16/bfloat16 <-> float32 conversion against memcpy of the same bytes, so the report
// shows how close the conversions come to memory bandwidth. Compare items_per_second: every
// benchmark here counts the same 2^22 elements per iteration.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "rvae/tensor.hpp"

namespace {

constexpr std::size_t kElements = std::size_t{1} << 22;  // A 4x256x256x16 latent, roughly.

std::vector<float> latent_like_floats() {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> values(kElements);
  for (float& v : values)
    v = normal(rng);
  return values;
}

void report(benchmark::State& state, std::size_t bytes_per_iteration) {
  const auto iterations = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(iterations * static_cast<std::int64_t>(kElements));
  state.SetBytesProcessed(iterations * static_cast<std::int64_t>(bytes_per_iteration));
}

// bytes_per_second counts the bytes read (the source), like the memcpy baselines below.
template <typename Src, typename Dst, void (*kConvert)(const Src*, Dst*, std::size_t) noexcept>
void bench_bulk(benchmark::State& state, const std::vector<Src>& src) {
  std::vector<Dst> dst(kElements);
  for (auto _ : state) {
    kConvert(src.data(), dst.data(), kElements);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  report(state, kElements * sizeof(Src));
}

std::vector<std::uint16_t> halves() {
  const std::vector<float> floats = latent_like_floats();
  std::vector<std::uint16_t> out(kElements);
  rvae::convert_float32_to_float16(floats.data(), out.data(), kElements);
  return out;
}

std::vector<std::uint16_t> bhalves() {
  const std::vector<float> floats = latent_like_floats();
  std::vector<std::uint16_t> out(kElements);
  rvae::convert_float32_to_bfloat16(floats.data(), out.data(), kElements);
  return out;
}

void BM_Float16ToFloat32(benchmark::State& state) {
  bench_bulk<std::uint16_t, float, rvae::convert_float16_to_float32>(state, halves());
}
BENCHMARK(BM_Float16ToFloat32);

void BM_BFloat16ToFloat32(benchmark::State& state) {
  bench_bulk<std::uint16_t, float, rvae::convert_bfloat16_to_float32>(state, bhalves());
}
BENCHMARK(BM_BFloat16ToFloat32);

void BM_Float32ToFloat16(benchmark::State& state) {
  bench_bulk<float, std::uint16_t, rvae::convert_float32_to_float16>(state, latent_like_floats());
}
BENCHMARK(BM_Float32ToFloat16);

void BM_Float32ToBFloat16(benchmark::State& state) {
  bench_bulk<float, std::uint16_t, rvae::convert_float32_to_bfloat16>(state, latent_like_floats());
}
BENCHMARK(BM_Float32ToBFloat16);

// The scalar API one element per call: shows what the vectorised bulk loop buys.
void BM_Float16ToFloat32ScalarCalls(benchmark::State& state) {
  const std::vector<std::uint16_t> src = halves();
  std::vector<float> dst(kElements);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kElements; ++i)
      dst[i] = rvae::float16_to_float32(src[i]);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  report(state, kElements * sizeof(std::uint16_t));
}
BENCHMARK(BM_Float16ToFloat32ScalarCalls);

// Baselines: memcpy of the 16-bit side (2 bytes per element) and of the float32 side (4 bytes
// per element). A conversion cannot beat the first; matching the second means it is memory-bound.
void BM_MemcpyBytesPerElement(benchmark::State& state) {
  const auto bytes_per_element = static_cast<std::size_t>(state.range(0));
  const std::vector<std::uint8_t> src(kElements * bytes_per_element, 0x5a);
  std::vector<std::uint8_t> dst(src.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  report(state, src.size());
}
BENCHMARK(BM_MemcpyBytesPerElement)->Arg(2)->Arg(4);

}  // namespace
