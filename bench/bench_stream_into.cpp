// Issue 21's benchmark: a video decode received straight into memory the caller owns
// (ReplyStream::into, sized by Client::reply_layout before sending), for its peak RSS against
// the reply's size (scripts/bench-video-stream.sh runs it under /usr/bin/time).
//   rvae_bench_stream_into DECODE_URL LATENTS.npy
// Prints one JSON line: {"reply_bytes", "frames", "wall_ms", "first_delivery_ms"}.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "rvae/rvae.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: rvae_bench_stream_into DECODE_URL LATENTS.npy\n");
    return 2;
  }
  rvae::Result<rvae::Tensor> latents = rvae::read_npy(argv[2]);
  if (!latents) {
    std::fprintf(stderr, "%s\n", latents.error().what());
    return 1;
  }
  rvae::ClientOptions client_options;
  client_options.token_from_environment = false;
  rvae::Client client(client_options);
  rvae::DecodeOptions options =
      rvae::PresetRegistry::builtin().find("hunyuan-video")->decode_options();
  options.output_type = rvae::OutputType::kUInt8;
  // One request, received whole into the buffer (temporal chunks cannot fill a caller's buffer).
  options.tiling.chunk_mode = rvae::ChunkMode::kOff;
  const rvae::Endpoint endpoint(argv[1]);
  rvae::Result<rvae::ReplyLayout> layout = client.reply_layout(endpoint, latents->view(), options);
  if (!layout) {
    std::fprintf(stderr, "%s\n", layout.error().what());
    return 1;
  }
  // The caller's memory, as a torch tensor's storage would be: allocated, not yet touched.
  const std::unique_ptr<std::uint8_t[]> buffer(new std::uint8_t[layout->bytes]);
  options.stream.into = buffer.get();
  options.stream.into_size = static_cast<std::size_t>(layout->bytes);
  const auto start = std::chrono::steady_clock::now();
  rvae::Result<rvae::DecodeOutput> output = client.decode(endpoint, latents->view(), options);
  const auto end = std::chrono::steady_clock::now();
  if (!output) {
    std::fprintf(stderr, "%s\n", output.error().what());
    return 1;
  }
  std::printf(
      "{\"reply_bytes\": %llu, \"frames\": %lld, \"wall_ms\": %.1f, \"first_delivery_ms\": "
      "%.1f}\n",
      static_cast<unsigned long long>(layout->bytes),
      static_cast<long long>(output->delivered.frames),
      std::chrono::duration<double, std::milli>(end - start).count(),
      static_cast<double>(output->delivered.first_delivery.count()) / 1000.0);
  return 0;
}
