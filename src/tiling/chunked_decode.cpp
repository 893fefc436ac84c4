// Temporal chunking of a video decode: the latent cut along time as diffusers'
// AutoencoderKLHunyuanVideo does (rvae/tiling.hpp), the chunks in flight at once, each frame
// written (or handed to DecodeOptions::stream.on_frame) as soon as the chunks it blends and the
// colour reference are in. Each chunk's GroupNorm sees only its own frames, so each comes back
// with its own colour; it is shifted so that its per-channel mean matches that of one decode of
// the whole clip, downsampled in space (and laid out as a mosaic of few frames under a frame
// cap: tiling/clip_mosaic.hpp).
//
// Memory: a chunk is freed once the frames that read it are written; requests wait while
// max_in_flight chunks are held. Streaming keeps one frame of output at a time.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/try.hpp"
#include "rvae/tiled.hpp"
#include "tiling/chunk_latents.hpp"
#include "tiling/chunk_plan.hpp"
#include "tiling/clip_mosaic.hpp"
#include "tiling/joined_stream.hpp"
#include "tiling/tile_latents.hpp"
#include "tiling/tile_pixels.hpp"
#include "tiling/tile_plan.hpp"
#include "tiling/tile_runner.hpp"
#include "tiling/tiler.hpp"

namespace rvae {
namespace {

using detail::ChunkPlan;
using detail::TilePixels;

Error invalid(const std::string& message) {
  return Error(ErrorCode::kInvalidArgument, message);
}

// Bytes of one output frame's samples: uint8, or a float reply counted at the latents' sample
// size (a VAE decodes in the dtype its latents come in: float16 for HunyuanVideo; the HF
// protocol does not announce it before the reply).
std::uint64_t sample_bytes(OutputType type, DType latents) {
  return type == OutputType::kFloatTensor ? dtype_size(latents) : 1;
}
std::uint64_t bytes_per_frame(const Shape& s, OutputType type, DType latents) {
  const auto pixels = static_cast<std::uint64_t>(s[0] * s[3] * s[4]) * 64;
  return pixels * 3 * sample_bytes(type, latents);
}

int output_frames(std::int64_t latent_frames, int tc) {
  return tc * static_cast<int>(latent_frames - 1) + 1;
}

// Frames per chunk as used: the caller's, snapped, and in kAuto lowered until one request
// (frames + 1 output frames) fits the reply budget and the frame cap.
int chunk_frames(const Shape& s, DType dtype, const DecodeOptions& options) {
  const int tc = options.temporal_compression;
  int frames = snap_frames_per_request(options.tiling.frames_per_request, tc);
  if (options.tiling.chunk_mode != ChunkMode::kAuto) return frames;
  const std::uint64_t per_frame = bytes_per_frame(s, options.output_type, dtype);
  while (frames > 2 * tc) {
    const bool over_budget =
        options.tiling.reply_budget_bytes > 0 &&
        per_frame * static_cast<std::uint64_t>(frames + 1) > options.tiling.reply_budget_bytes;
    const bool over_cap = options.tiling.max_frames > 0 && frames + 1 > options.tiling.max_frames;
    if (!over_budget && !over_cap) break;
    frames -= tc;
  }
  return frames;
}

struct ChunkSlot {
  Tensor latents;  // sent; alive until the reply is in
  std::optional<TilePixels> pixels;
  std::vector<double> means;        // per batch item, RGB: the chunk's mean over its kept frames
  std::vector<double> frame_means;  // per batch item and kept frame, RGB
  std::vector<float> offsets;       // per batch item, RGB, once the reference is in
  std::vector<detail::LevelTable> levels;
  bool freed = false;
};

class ChunkedDecode {
 public:
  ChunkedDecode(detail::Engine& engine, const Endpoint& endpoint, const TensorView& latents,
                const DecodeOptions& options, ChunkPlan plan)
      : engine_(engine),
        endpoint_(endpoint),
        latents_(latents),
        options_(options),
        plan_(std::move(plan)),
        slots_(plan_.chunks.size()) {
    const Shape& s = latents.shape;
    batch_ = static_cast<std::size_t>(s[0]);
    height_ = static_cast<int>(s[3] * 8);
    width_ = static_cast<int>(s[4] * 8);
    tc_ = options.temporal_compression;
    use_reference_ = options.tiling.temporal_colour_reference;
    first_chunk_ = use_reference_ ? 1 : 0;
    streaming_ = static_cast<bool>(options.stream.on_frame);
    hold_limit_ = std::max<std::size_t>(options.tiling.max_in_flight, 3);
    chunk_options_ = options;
    chunk_options_.tiling.chunk_mode = ChunkMode::kOff;
    chunk_options_.control = {};
    chunk_options_.stream = {};
    chunk_options_.tiling.on_progress = nullptr;
    // Chunks too wide for the cap are tiled in space; the others are plain requests.
    spatial_ = decode_needs_tiling(latents, chunk_options_);
    if (!spatial_) chunk_options_.tiling.mode = TileMode::kOff;
    plan_reference();
  }

  Result<DecodeOutput> run() {
    const auto started = std::chrono::steady_clock::now();
    started_ = started;
    detail::TileJobs<DecodeOutput> jobs;
    jobs.count = slots_.size() + first_chunk_;
    jobs.describe = [this](std::size_t i) { return describe(i); };
    jobs.may_start = [this](std::size_t i) { return i < first_chunk_ || held_ < hold_limit_; };
    jobs.start = [this](std::size_t i, const RequestControl& control) { return start(i, control); };
    jobs.accept = [this](std::size_t i, DecodeOutput&& out) { return accept(i, std::move(out)); };
    detail::TileTotals totals;
    RVAE_TRY(detail::run_tiles(engine_, options_.control, options_.tiling.max_in_flight,
                               options_.tiling.on_progress, jobs, totals));
    if (next_frame_ != plan_.total_frames) {
      return Error(ErrorCode::kInternal, "chunked decode finished with frames unwritten");
    }
    DecodeOutput out;
    if (sink_) out = std::move(*sink_).take();
    out.type = options_.output_type;
    out.delivered = delivered_;
    totals.write_to(out.timings, started);
    return out;
  }

 private:
  std::string describe(std::size_t i) const {
    if (i < first_chunk_) return "the colour reference request (whole clip, downsampled)";
    const std::size_t k = i - first_chunk_;
    const detail::Chunk& c = plan_.chunks[k];
    return "chunk " + std::to_string(k + 1) + " of " + std::to_string(slots_.size()) +
           " (latent frames " + std::to_string(c.latent_start) + ".." +
           std::to_string(c.latent_start + c.latent_count - 1) + ")";
  }

  // The reference: in space downsampled by at least 4 (it only needs means) and enough to fit
  // the cap and the budget. When the clip's frames do not fit one request (the frame cap, or,
  // when chunks were forced (kOn) with no cap given, one chunk's request: the endpoint takes
  // those), they go as a mosaic of the cap's frames.
  void plan_reference() {
    const Shape& s = latents_.shape;
    const auto latent_frames = static_cast<int>(s[2]);
    int cap = options_.tiling.max_frames;
    if (cap == 0 && options_.tiling.chunk_mode == ChunkMode::kOn) cap = plan_.chunks[0].frames;
    const bool mosaic = cap > 0 && output_frames(latent_frames, tc_) > cap;
    const int request_frames = (cap - 1) / tc_ + 1;
    // The spatial tiler's assumption: the decoder reaches a quarter of its overlap.
    const int gutter = std::max(0, options_.tiling.overlap / 4);
    const int h = static_cast<int>(s[3]), w = static_cast<int>(s[4]);
    const int max_latent = std::max(1, options_.tiling.max_image_side / 8);
    auto layout = [&](int f) {
      return detail::ClipMosaic::plan(latent_frames, request_frames, detail::ceil_div(h, f),
                                      detail::ceil_div(w, f), gutter, tc_);
    };
    auto fits = [&](int f) {
      int rh = detail::ceil_div(h, f), rw = detail::ceil_div(w, f);
      int frames = plan_.total_frames;
      if (mosaic) {
        const detail::ClipMosaic m = layout(f);
        rh = m.height();
        rw = m.width();
        frames = m.output_frames();
      }
      const auto bytes = static_cast<std::uint64_t>(s[0]) * static_cast<std::uint64_t>(frames) *
                         static_cast<std::uint64_t>(rh * rw) * 64 * 3 *
                         sample_bytes(options_.output_type, latents_.dtype);
      const std::uint64_t budget = options_.tiling.reply_budget_bytes;
      return rh <= max_latent && rw <= max_latent && (budget == 0 || bytes <= budget);
    };
    space_factor_ = std::min(4, std::max(1, std::min(h, w)));
    while (!fits(space_factor_) && space_factor_ < std::max(h, w))
      ++space_factor_;
    reference_height_ = detail::ceil_div(h, space_factor_) * 8;
    reference_width_ = detail::ceil_div(w, space_factor_) * 8;
    if (mosaic) mosaic_ = layout(space_factor_);
  }

  // Where output frame g of batch item b is in the reference's reply: item, and the top-left
  // pixel of its reference_height_ x reference_width_ area.
  detail::ClipMosaic::Spot reference_spot(std::size_t b, int g, std::size_t& item) const {
    if (!mosaic_) {
      item = b * static_cast<std::size_t>(plan_.total_frames) + static_cast<std::size_t>(g);
      return {};
    }
    const detail::ClipMosaic::Spot spot = mosaic_->locate(g);
    item = b * static_cast<std::size_t>(mosaic_->output_frames()) +
           static_cast<std::size_t>(spot.frame);
    return spot;
  }

  Result<Pending<DecodeOutput>> start(std::size_t i, const RequestControl& control) {
    DecodeOptions one = chunk_options_;
    one.control = control;
    if (i < first_chunk_) {
      one.tiling.mode = TileMode::kOff;
      RVAE_ASSIGN_OR_RETURN(detail::LatentGrid grid, detail::LatentGrid::from(latents_, one));
      RVAE_ASSIGN_OR_RETURN(Tensor small, grid.downsample(space_factor_, one));
      if (mosaic_) {
        RVAE_ASSIGN_OR_RETURN(small, mosaic_->build(small.view(), latents_));
      }
      reference_latents_ = std::move(small);
      return engine_.decode_async(endpoint_, reference_latents_.view(), one);
    }
    const std::size_t k = i - first_chunk_;
    const detail::Chunk& c = plan_.chunks[k];
    ChunkSlot& slot = slots_[k];
    RVAE_ASSIGN_OR_RETURN(slot.latents,
                          detail::slice_frames(latents_, c.latent_start, c.latent_count));
    ++held_;
    if (spatial_) {
      // The spatial tiler runs its own window of tiles on this thread.
      return make_ready_pending<DecodeOutput>(
          detail::tiled_decode(engine_, endpoint_, slot.latents.view(), one));
    }
    return engine_.decode_async(endpoint_, slot.latents.view(), one);
  }

  Result<void> accept(std::size_t i, DecodeOutput&& out) {
    if (i < first_chunk_) {
      reference_latents_ = Tensor();
      RVAE_TRY(take_reference(std::move(out)));
    } else {
      RVAE_TRY(take_chunk(i - first_chunk_, std::move(out)));
    }
    return write_ready();
  }

  Result<void> take_reference(DecodeOutput&& out) {
    RVAE_ASSIGN_OR_RETURN(TilePixels pixels,
                          TilePixels::from(std::move(out), static_cast<std::int64_t>(batch_)));
    const int expected = mosaic_ ? mosaic_->output_frames() : plan_.total_frames;
    const int height = mosaic_ ? mosaic_->height() * 8 : reference_height_;
    const int width = mosaic_ ? mosaic_->width() * 8 : reference_width_;
    if (pixels.frames() != expected ||
        pixels.items() != batch_ * static_cast<std::size_t>(expected) ||
        pixels.height() != height || pixels.width() != width) {
      return Error(ErrorCode::kDataLoss,
                   "the reply has " + std::to_string(pixels.items()) + " frames of " +
                       std::to_string(pixels.width()) + "x" + std::to_string(pixels.height()) +
                       "; expected " + std::to_string(batch_ * static_cast<std::size_t>(expected)) +
                       " of " + std::to_string(width) + "x" + std::to_string(height));
    }
    const auto total = static_cast<std::size_t>(plan_.total_frames);
    reference_means_.assign(batch_ * total * 3, 0.0);
    for (std::size_t b = 0; b < batch_; ++b) {
      for (int g = 0; g < plan_.total_frames; ++g) {
        std::size_t item = 0;
        const detail::ClipMosaic::Spot spot = reference_spot(b, g, item);
        pixels.mean(item, spot.y, spot.x, reference_height_, reference_width_,
                    &reference_means_[(b * total + static_cast<std::size_t>(g)) * 3]);
      }
    }
    have_reference_ = true;
    reference_pixels_.emplace(std::move(pixels));
    for (std::size_t k = 0; k < slots_.size(); ++k)
      if (slots_[k].pixels) colour_match(k);
    return {};
  }

  Result<void> take_chunk(std::size_t k, DecodeOutput&& out) {
    const detail::Chunk& c = plan_.chunks[k];
    ChunkSlot& slot = slots_[k];
    slot.latents = Tensor();
    RVAE_ASSIGN_OR_RETURN(TilePixels pixels,
                          TilePixels::from(std::move(out), static_cast<std::int64_t>(batch_)));
    const int decoded = c.frames + c.drop;
    if (pixels.height() != height_ || pixels.width() != width_ || pixels.frames() != decoded ||
        pixels.items() != batch_ * static_cast<std::size_t>(decoded)) {
      return Error(ErrorCode::kDataLoss,
                   "the reply has " + std::to_string(pixels.items()) + " frames of " +
                       std::to_string(pixels.width()) + "x" + std::to_string(pixels.height()) +
                       "; expected " + std::to_string(batch_ * static_cast<std::size_t>(decoded)) +
                       " of " + std::to_string(width_) + "x" + std::to_string(height_));
    }
    if (!sink_ && !streaming_) {
      RVAE_ASSIGN_OR_RETURN(
          detail::PixelSink sink,
          detail::PixelSink::make(options_.output_type, static_cast<std::int64_t>(batch_),
                                  plan_.total_frames, true, height_, width_, pixels.dtype()));
      sink_.emplace(std::move(sink));
    }
    slot.means.assign(batch_ * 3, 0.0);
    slot.frame_means.assign(batch_ * static_cast<std::size_t>(c.frames) * 3, 0.0);
    for (std::size_t b = 0; b < batch_; ++b) {
      for (int f = 0; f < c.frames; ++f) {
        double* rgb = &slot.frame_means[item_of(b, f, c.frames) * 3];
        pixels.mean(item_of(b, f + c.drop, decoded), 0, 0, height_, width_, rgb);
        for (std::size_t j = 0; j < 3; ++j)
          slot.means[b * 3 + j] += rgb[j] / c.frames;
      }
    }
    slot.pixels.emplace(std::move(pixels));
    if (!use_reference_) slot.offsets.assign(batch_ * 3, 0.0f);
    if (have_reference_) colour_match(k);
    return {};
  }

  static std::size_t item_of(std::size_t b, int frame, int frames) {
    return b * static_cast<std::size_t>(frames) + static_cast<std::size_t>(frame);
  }

  // Chunk k's shift: the reference's mean over the chunk's kept frames less the chunk's own.
  void colour_match(std::size_t k) {
    const detail::Chunk& c = plan_.chunks[k];
    ChunkSlot& slot = slots_[k];
    const auto total = static_cast<std::size_t>(plan_.total_frames);
    slot.offsets.assign(batch_ * 3, 0.0f);
    for (std::size_t b = 0; b < batch_; ++b) {
      for (std::size_t j = 0; j < 3; ++j) {
        double reference = 0.0;
        for (int f = 0; f < c.frames; ++f) {
          const auto g = static_cast<std::size_t>(c.first_frame + f);
          reference += reference_means_[(b * total + g) * 3 + j] / c.frames;
        }
        slot.offsets[b * 3 + j] = static_cast<float>(reference - slot.means[b * 3 + j]);
      }
    }
  }

  bool ready(std::size_t k) const { return slots_[k].pixels && !slots_[k].offsets.empty(); }

  // Writes every frame whose chunks are in, in order, and frees the chunks no frame needs now.
  Result<void> write_ready() {
    while (next_frame_ < plan_.total_frames) {
      const std::size_t k = plan_.owner(next_frame_);
      const bool blended = plan_.weight(k, next_frame_) < 1.0f;
      if (!ready(k) || (blended && !ready(k - 1))) break;
      RVAE_TRY(write_frame(k, next_frame_));
      ++next_frame_;
      for (std::size_t j = 0; j < k; ++j)
        free_if_done(j);
    }
    if (next_frame_ == plan_.total_frames) {
      for (std::size_t j = 0; j < slots_.size(); ++j)
        free_if_done(j);
    }
    return {};
  }

  void free_if_done(std::size_t j) {
    ChunkSlot& slot = slots_[j];
    if (slot.freed || !slot.pixels) return;
    const int needed_until = j + 1 < plan_.chunks.size()
                                 ? plan_.chunks[j + 1].own_begin + plan_.chunks[j + 1].blend
                                 : plan_.total_frames;
    if (next_frame_ < needed_until) return;
    slot.pixels.reset();
    slot.levels = {};
    slot.freed = true;
    --held_;
  }

  const detail::LevelTable& levels(std::size_t k, std::size_t b) {
    ChunkSlot& slot = slots_[k];
    if (slot.levels.empty()) {
      for (std::size_t n = 0; n < batch_; ++n)
        slot.levels.push_back(detail::shifted_levels(slot.offsets.data() + n * 3));
    }
    return slot.levels[b];
  }

  // Sample i of row y of frame g (batch item b) plus its chunk's shift, by shift_sample's rule
  // for a sample the chunk clipped (the reference's pixel, when there is a reference).
  float shifted(std::size_t b, int g, int y, std::size_t i, float value, float offset) const {
    if (!detail::clipped_inwards(value, offset)) return value + offset;
    if (!reference_pixels_) return detail::shift_sample(value, offset, nullptr);
    std::size_t item = 0;
    const detail::ClipMosaic::Spot spot = reference_spot(b, g, item);
    const int ry = std::min(reference_height_ - 1, y / space_factor_);
    const int rx = std::min(reference_width_ - 1, static_cast<int>(i / 3) / space_factor_);
    float rgb[3];
    reference_pixels_->read_row(item, spot.y + ry, spot.x + rx, 1, rgb);
    return detail::shift_sample(value, offset, &rgb[i % 3]);
  }

  // After a row was written through a level table: its clipped samples again, by shifted().
  void rewrite_clipped(detail::PixelSink& sink, std::size_t item, std::size_t b, int g, int y,
                       const std::uint8_t* source, const float* offset) const {
    for (int x = 0; x < width_; ++x) {
      const std::uint8_t* pixel = source + static_cast<std::size_t>(x) * 3;
      float value[3];
      bool clipped = false;
      for (std::size_t k = 0; k < 3; ++k) {
        value[k] = static_cast<float>(pixel[k]) / 127.5f - 1.0f;
        clipped = clipped || detail::clipped_inwards(value[k], offset[k]);
      }
      if (!clipped) continue;
      float rgb[3];
      for (std::size_t k = 0; k < 3; ++k)
        rgb[k] = shifted(b, g, y, static_cast<std::size_t>(x) * 3 + k, value[k], offset[k]);
      sink.write_row(item, y, x, 1, rgb);
    }
  }

  // Output frame g of every batch item from chunk k (weight w) and chunk k-1 (1 - w).
  Result<void> write_frame(std::size_t k, int g) {
    const float w = plan_.weight(k, g);
    const detail::Chunk& c = plan_.chunks[k];
    const TilePixels& own = *slots_[k].pixels;
    const int own_frames = c.frames + c.drop;
    const int own_index = g - c.first_frame + c.drop;
    const auto width = static_cast<std::size_t>(width_);
    for (std::size_t b = 0; b < batch_; ++b) {
      std::optional<detail::PixelSink> frame_sink;
      detail::PixelSink* sink = sink_ ? &*sink_ : nullptr;
      std::size_t item =
          b * static_cast<std::size_t>(plan_.total_frames) + static_cast<std::size_t>(g);
      if (streaming_) {
        RVAE_ASSIGN_OR_RETURN(detail::PixelSink one,
                              detail::PixelSink::make(OutputType::kUInt8, 1, 1, false, height_,
                                                      width_, DType::kUInt8));
        frame_sink.emplace(std::move(one));
        sink = &*frame_sink;
        item = 0;
      }
      const std::size_t own_item = item_of(b, own_index, own_frames);
      const float* own_offset = slots_[k].offsets.data() + b * 3;
      if (w == 1.0f && sink->holds_bytes() && own.dtype() == DType::kUInt8) {
        const detail::LevelTable& table = levels(k, b);
        for (int y = 0; y < height_; ++y) {
          const std::uint8_t* source = own.bytes(own_item, y, 0);
          sink->write_levels(item, y, 0, width_, source, table);
          rewrite_clipped(*sink, item, b, g, y, source, own_offset);
        }
      } else {
        const detail::Chunk& p = plan_.chunks[w < 1.0f ? k - 1 : k];
        const int before_frames = p.frames + p.drop;
        const std::size_t before_item = item_of(b, g - p.first_frame + p.drop, before_frames);
        const float* before_offset = slots_[w < 1.0f ? k - 1 : k].offsets.data() + b * 3;
        acc_.resize(width * 3);
        row_.resize(width * 3);
        for (int y = 0; y < height_; ++y) {
          own.read_row(own_item, y, 0, width_, acc_.data());
          for (std::size_t i = 0; i < acc_.size(); ++i)
            acc_[i] = w * shifted(b, g, y, i, acc_[i], own_offset[i % 3]);
          if (w < 1.0f) {
            slots_[k - 1].pixels->read_row(before_item, y, 0, width_, row_.data());
            for (std::size_t i = 0; i < acc_.size(); ++i)
              acc_[i] += (1.0f - w) * shifted(b, g, y, i, row_[i], before_offset[i % 3]);
          }
          sink->write_row(item, y, 0, width_, acc_.data());
        }
      }
      if (streaming_) RVAE_TRY(deliver(std::move(*frame_sink).take(), g));
    }
    return {};
  }

  // Hands one finished frame to on_frame; its exception ends the call with its message.
  Result<void> deliver(DecodeOutput frame, int g) {
    if (options_.control.cancel && options_.control.cancel->cancelled()) {
      return Error(ErrorCode::kCancelled, "the chunked call was cancelled");
    }
    FrameView view;
    view.index = g;
    view.image = frame.images.at(0);
    try {
      options_.stream.on_frame(view);
    } catch (const Error& error) {
      return Error(error.code(), "the frame callback failed at frame " + std::to_string(g) + ": " +
                                     error.message());
    } catch (const std::exception& error) {
      return invalid("the frame callback failed at frame " + std::to_string(g) + ": " +
                     error.what());
    } catch (...) {
      return invalid("the frame callback failed at frame " + std::to_string(g));
    }
    if (delivered_.frames == 0) {
      delivered_.first_delivery = std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - started_);
    }
    ++delivered_.frames;
    delivered_.bytes += frame.images[0].pixels.size();
    return {};
  }

  detail::Engine& engine_;
  const Endpoint& endpoint_;
  TensorView latents_;
  const DecodeOptions& options_;
  ChunkPlan plan_;
  std::vector<ChunkSlot> slots_;
  DecodeOptions chunk_options_;
  std::size_t batch_ = 1;
  int height_ = 0, width_ = 0, tc_ = 4;
  bool use_reference_ = true;
  bool streaming_ = false;
  bool spatial_ = false;
  std::size_t first_chunk_ = 1;
  std::size_t hold_limit_ = 3;
  std::size_t held_ = 0;
  int space_factor_ = 1;
  int reference_height_ = 0, reference_width_ = 0;  // output pixels of one reference frame
  std::optional<detail::ClipMosaic> mosaic_;
  int next_frame_ = 0;
  bool have_reference_ = false;
  Tensor reference_latents_;
  std::vector<double> reference_means_;
  std::optional<TilePixels> reference_pixels_;
  std::optional<detail::PixelSink> sink_;
  std::vector<float> acc_, row_;
  Delivered delivered_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

int snap_frames_per_request(int frames, int temporal_compression) noexcept {
  if (temporal_compression < 1) return 0;
  const int snapped = frames / temporal_compression * temporal_compression;
  return std::max(snapped, 2 * temporal_compression);
}

bool decode_needs_chunking(const TensorView& latents, const DecodeOptions& options) noexcept {
  const TilingOptions& t = options.tiling;
  if (latents.shape.size() != 5 || latents.shape[2] < 1 || options.temporal_compression < 1) {
    return false;
  }
  if (t.chunk_mode == ChunkMode::kOn) return true;
  // An MP4 reply is compressed (its size is not the budget's concern) and cannot be joined.
  if (t.chunk_mode == ChunkMode::kOff || t.stateful_decoder ||
      options.output_type == OutputType::kMp4) {
    return false;
  }
  const Shape& s = latents.shape;
  const int frames = output_frames(s[2], options.temporal_compression);
  if (t.max_frames > 0 && frames > t.max_frames) return true;
  return t.reply_budget_bytes > 0 && bytes_per_frame(s, options.output_type, latents.dtype) *
                                             static_cast<std::uint64_t>(frames) >
                                         t.reply_budget_bytes;
}

Result<DecodeOutput> detail::chunked_decode(Engine& engine, const Endpoint& endpoint,
                                            const TensorView& latents,
                                            const DecodeOptions& options) {
  RVAE_TRY(latents.validate());
  if (options.tiling.stateful_decoder) {
    return invalid(
        "this model's decoder carries state across frames (stateful_decoder): chunks decoded as "
        "separate requests would not match the whole video; set tiling.chunk_mode to kOff");
  }
  if (options.output_type == OutputType::kMp4) {
    return invalid(
        "MP4 output cannot be decoded in temporal chunks (rvae has no video encoder to join "
        "them): decode to frames with OutputType::kUInt8 (rvae decode -o frames/) or set "
        "tiling.chunk_mode to kOff");
  }
  if (options.output_type == OutputType::kImage) {
    return invalid("an image reply holds one image: video latents need kUInt8 or kFloatTensor");
  }
  // Frames of one clip go out as their blend completes; other streams get the joined output.
  if (options.stream.active() &&
      (!options.stream.on_frame || options.output_type != OutputType::kUInt8 ||
       latents.shape[0] != 1)) {
    return detail::stream_joined(engine, endpoint, latents, options,
                                 [&](const DecodeOptions& joined) {
                                   return detail::chunked_decode(engine, endpoint, latents, joined);
                                 });
  }
  if (options.tiling.frames_per_request < 1) {
    return invalid("tiling.frames_per_request must be at least 1, got " +
                   std::to_string(options.tiling.frames_per_request));
  }
  const int tc = options.temporal_compression;
  ChunkPlan plan = plan_chunks(static_cast<int>(latents.shape[2]), tc,
                               chunk_frames(latents.shape, latents.dtype, options));
  if (plan.chunks.size() == 1) {
    // One chunk is the plain request (or the spatial tiler's call): the same bytes out.
    DecodeOptions one = options;
    one.tiling.chunk_mode = ChunkMode::kOff;
    if (decode_needs_tiling(latents, one)) return tiled_decode(engine, endpoint, latents, one);
    return engine.decode_async(endpoint, latents, one).get();
  }
  ChunkedDecode call(engine, endpoint, latents, options, std::move(plan));
  return call.run();
}

}  // namespace rvae
