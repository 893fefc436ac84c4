// Tiled decode and encode on the request engine: any image size through an endpoint that caps
// each request, the tiles in flight at once and no visible seam (see rvae/tiling.hpp). The
// public Client routes every call form here when its options ask for tiling.
#pragma once

#include <memory>

#include "api/engine.hpp"
#include "rvae/client_options.hpp"
#include "rvae/error.hpp"
#include "rvae/image.hpp"
#include "rvae/options.hpp"
#include "rvae/pending.hpp"
#include "rvae/tensor.hpp"

namespace rvae::detail {

/// Decodes `latents` as overlapping tiles blended and colour-matched (TilingOptions). When the
/// plan has one tile, this is exactly one plain request and its reply. Otherwise the result
/// holds decoded pixels: kUInt8 and kImage fill `images` (kImage also re-encodes them in
/// options.image_format into `encoded`), kFloatTensor fills `tensor`; kMp4 cannot be tiled
/// (InvalidArgument). Errors: the first failing tile's, prefixed with its position; Cancelled;
/// DeadlineExceeded. Runs on the calling thread.
Result<DecodeOutput> tiled_decode(Engine& engine, const Endpoint& endpoint,
                                  const TensorView& latents, const DecodeOptions& options);
/// Decodes video `latents` in temporal chunks (rvae/tiling.hpp: diffusers' scheme, colour-matched
/// to a downsampled decode of the whole clip), each chunk tiled in space when it must be. One
/// chunk is exactly one plain request (or the spatial tiler's call). Errors: InvalidArgument for
/// a stateful decoder, MP4 or image output, stream.on_chunk/into; the first failing request's
/// error prefixed with its position ("chunk 2 of 5 (latent frames 3..7)"); Cancelled;
/// DeadlineExceeded. Runs on the calling thread.
Result<DecodeOutput> chunked_decode(Engine& engine, const Endpoint& endpoint,
                                    const TensorView& latents, const DecodeOptions& options);
/// Encodes an image as overlapping tiles whose latents are blended and colour-matched.
Result<EncodeOutput> tiled_encode(Engine& engine, const Endpoint& endpoint, const Image& image,
                                  const EncodeOptions& options);
/// The same for a pixel tensor [B,3,H,W].
Result<EncodeOutput> tiled_encode(Engine& engine, const Endpoint& endpoint,
                                  const TensorView& pixels, const EncodeOptions& options);

/// Tiled calls that run on threads of their own behind a Pending, and that a Client ends
/// (cancels and waits for) before its engine goes.
class TiledCalls {
 public:
  TiledCalls();
  /// close().
  ~TiledCalls();
  TiledCalls(const TiledCalls&) = delete;
  TiledCalls& operator=(const TiledCalls&) = delete;

  /// tiled_decode on a thread of its own; `latents` must stay alive until the result is taken
  /// or the Pending dropped.
  Pending<DecodeOutput> decode(Engine& engine, const Endpoint& endpoint, const TensorView& latents,
                               const DecodeOptions& options);
  /// tiled_encode of an image (copied) on a thread of its own.
  Pending<EncodeOutput> encode(Engine& engine, const Endpoint& endpoint, ImageView image,
                               const EncodeOptions& options);
  /// tiled_encode of a pixel tensor on a thread of its own; `pixels` must stay alive as above.
  Pending<EncodeOutput> encode(Engine& engine, const Endpoint& endpoint, const TensorView& pixels,
                               const EncodeOptions& options);
  /// Cancels every call still running, waits until they ended (and their callbacks ran), and
  /// ends later calls at once with Cancelled.
  void close();

  struct Registry;  ///< The calls still running.

 private:
  std::shared_ptr<Registry> registry_;
};

}  // namespace rvae::detail
