// Tiled decode: the latent cut into overlapping tiles, all in flight at once, each reply merged
// into the output as soon as it and its neighbours are in, colour-matched to one decode of the
// whole latent downsampled to fit the cap.
//
// Memory: a pixel is written once, when every tile covering it has arrived (each tile "owns" the
// region up to the end of its overlap with the next tile, so it needs its right, lower and
// lower-right neighbours); a reply is freed once the regions that read it are written. Requests
// are sent row-major and a new one waits while too many replies are held, so beyond the output
// only about two rows of tiles are ever in memory.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/reply_streamer.hpp"
#include "core/try.hpp"
#include "rvae/tiled.hpp"
#include "tiling/tile_latents.hpp"
#include "tiling/tile_pixels.hpp"
#include "tiling/tile_plan.hpp"
#include "tiling/tile_runner.hpp"
#include "tiling/tiler.hpp"

namespace rvae {
namespace {

using detail::AxisPlan;
using detail::AxisSpan;
using detail::LatentForm;
using detail::LatentGrid;
using detail::TileGrid;
using detail::TilePixels;

Error invalid(const std::string& message) {
  return Error(ErrorCode::kInvalidArgument, message);
}

// Output size in pixels of `latents` decoded, or nullopt when the shape is not one decode takes.
std::optional<std::pair<long long, long long>> output_size(const TensorView& latents,
                                                           const DecodeOptions& options) {
  const Shape& s = latents.shape;
  if (s.size() == 3) {
    if (!options.height || !options.width) return std::nullopt;
    return std::make_pair<long long, long long>(*options.height, *options.width);
  }
  if (s.size() == 4 || s.size() == 5) {
    return std::make_pair<long long, long long>(s[s.size() - 2] * 8, s[s.size() - 1] * 8);
  }
  return std::nullopt;
}

struct TileSlot {
  Tensor latents;  // sent; alive until the reply is in
  std::optional<TilePixels> pixels;
  std::vector<float> offsets;  // per item, RGB
  // Per item, RGB, over the area compared with the reference: taken when the tile arrives, so
  // that the reference's arrival (usually last: it is the largest request) only adds its side.
  std::vector<double> interior_means;
  std::vector<detail::LevelTable> levels;  // per item, once the offsets are final
  bool written = false;
  bool freed = false;
  bool launched = false;
};

class TiledDecode {
 public:
  TiledDecode(detail::Engine& engine, const Endpoint& endpoint, const DecodeOptions& options,
              LatentGrid grid, TileGrid plan)
      : engine_(engine),
        endpoint_(endpoint),
        options_(options),
        grid_(std::move(grid)),
        plan_(std::move(plan)),
        slots_(plan_.count()) {
    for (std::size_t r = 0; r < plan_.rows.tiles.size(); ++r)
      row_weights_.push_back(detail::axis_weights(plan_.rows, r, 8));
    for (std::size_t c = 0; c < plan_.cols.tiles.size(); ++c)
      col_weights_.push_back(detail::axis_weights(plan_.cols, c, 8));
    for (std::size_t r = 0; r < rows(); ++r)
      row_full_.push_back(full_weight_span(row_weights_[r], plan_.rows.tiles[r].start * 8));
    for (std::size_t c = 0; c < cols(); ++c)
      col_full_.push_back(full_weight_span(col_weights_[c], plan_.cols.tiles[c].start * 8));
    use_reference_ = options.tiling.colour_reference;
    first_tile_ = use_reference_ ? 1 : 0;
    // Tile (r, c) is freed only once (r+1, c+1) is written, which needs (r+2, c+2): two rows
    // and a bit must fit in what is held, or the call could wait on itself.
    hold_limit_ = std::max(options.tiling.max_in_flight, 2 * cols() + 3);
    tile_options_ = options;
    tile_options_.tiling.mode = TileMode::kOff;
    tile_options_.control = {};
    // Tiles come back as pixels to blend; an encoded image would add its own artefacts.
    if (tile_options_.output_type == OutputType::kImage) {
      tile_options_.output_type = OutputType::kUInt8;
    }
  }

  Result<DecodeOutput> run() {
    const auto started = std::chrono::steady_clock::now();
    detail::TileJobs<DecodeOutput> jobs;
    jobs.count = slots_.size() + first_tile_;
    jobs.describe = [this](std::size_t i) { return describe(i); };
    jobs.may_start = [this](std::size_t i) { return i < first_tile_ || held_ < hold_limit_; };
    jobs.start = [this](std::size_t i, const RequestControl& control) { return start(i, control); };
    jobs.accept = [this](std::size_t i, DecodeOutput&& out) { return accept(i, std::move(out)); };
    jobs.all_sent = [this]() { return prepare_output(); };
    detail::TileTotals totals;
    RVAE_TRY(detail::run_tiles(engine_, options_.control, options_.tiling.max_in_flight,
                               options_.tiling.on_progress, jobs, totals));
    if (!sink_) return Error(ErrorCode::kInternal, "tiled decode finished without output");
    DecodeOutput out = std::move(*sink_).take();
    out.type = options_.output_type;
    if (options_.output_type == OutputType::kImage) {
      RVAE_ASSIGN_OR_RETURN(out.encoded, options_.image_format == ImageFormat::kPng
                                             ? encode_png(out.images.at(0))
                                             : encode_jpeg(out.images.at(0), 95));
    }
    totals.write_to(out.timings, started);
    return out;
  }

 private:
  std::size_t rows() const noexcept { return plan_.rows.tiles.size(); }
  std::size_t cols() const noexcept { return plan_.cols.tiles.size(); }
  std::size_t slot_of(std::size_t r, std::size_t c) const noexcept { return r * cols() + c; }

  std::string describe(std::size_t i) const {
    if (i < first_tile_) return "the colour reference request (whole latent, downsampled)";
    const std::size_t t = i - first_tile_;
    return "tile (" + std::to_string(t / cols()) + ", " + std::to_string(t % cols()) + ") of " +
           std::to_string(rows()) + " x " + std::to_string(cols());
  }

  Result<Pending<DecodeOutput>> start(std::size_t i, const RequestControl& control) {
    DecodeOptions one = tile_options_;
    one.control = control;
    if (i < first_tile_) {
      factor_ = grid_.downsample_factor(options_.tiling.max_image_side);
      RVAE_ASSIGN_OR_RETURN(reference_latents_, grid_.downsample(factor_, one));
      return engine_.decode_async(endpoint_, reference_latents_.view(), one);
    }
    const std::size_t t = i - first_tile_;
    const AxisSpan row = plan_.rows.tiles[t / cols()];
    const AxisSpan col = plan_.cols.tiles[t % cols()];
    TileSlot& slot = slots_[t];
    RVAE_ASSIGN_OR_RETURN(slot.latents, grid_.crop(row.start, col.start, row.size, col.size, one));
    slot.launched = true;
    ++held_;
    return engine_.decode_async(endpoint_, slot.latents.view(), one);
  }

  // Called once every request is out: allocating (and first touching) a large output costs a
  // noticeable time, better spent while the tiles are computed than after they arrive. Only
  // 8-bit image output of image latents is known in full before a reply: a float tensor takes
  // the replies' dtype, a video the decoder's frame count.
  Result<void> prepare_output() {
    if (sink_ || options_.output_type == OutputType::kFloatTensor ||
        grid_.form() == LatentForm::kVideo) {
      return {};
    }
    RVAE_ASSIGN_OR_RETURN(
        detail::PixelSink sink,
        detail::PixelSink::make(options_.output_type, grid_.batch(), 1, false, grid_.height() * 8,
                                grid_.width() * 8, DType::kUInt8));
    sink_.emplace(std::move(sink));
    items_ = static_cast<std::size_t>(grid_.batch());
    return {};
  }

  Result<void> accept(std::size_t i, DecodeOutput&& out) {
    if (i < first_tile_) {
      reference_latents_ = Tensor();
      RVAE_ASSIGN_OR_RETURN(TilePixels pixels, TilePixels::from(std::move(out), grid_.batch()));
      reference_.emplace(std::move(pixels));
      for (std::size_t t = 0; t < slots_.size(); ++t) {
        if (slots_[t].pixels) colour_match(t);
      }
      for (std::size_t t = 0; t < slots_.size(); ++t)
        write_ready(t / cols(), t % cols());
      return {};
    }
    const std::size_t t = i - first_tile_;
    TileSlot& slot = slots_[t];
    slot.latents = Tensor();
    RVAE_ASSIGN_OR_RETURN(TilePixels pixels, TilePixels::from(std::move(out), grid_.batch()));
    const AxisSpan row = plan_.rows.tiles[t / cols()];
    const AxisSpan col = plan_.cols.tiles[t % cols()];
    if (pixels.height() != row.size * 8 || pixels.width() != col.size * 8) {
      return Error(ErrorCode::kDataLoss, "the reply is " + std::to_string(pixels.width()) + "x" +
                                             std::to_string(pixels.height()) + " pixels, not " +
                                             std::to_string(col.size * 8) + "x" +
                                             std::to_string(row.size * 8));
    }
    if (!sink_) {
      RVAE_ASSIGN_OR_RETURN(
          detail::PixelSink sink,
          detail::PixelSink::make(options_.output_type, grid_.batch(), pixels.frames(),
                                  grid_.form() == LatentForm::kVideo, grid_.height() * 8,
                                  grid_.width() * 8, pixels.dtype()));
      sink_.emplace(std::move(sink));
      items_ = pixels.items();
    }
    if (pixels.items() != items_) {
      return Error(ErrorCode::kDataLoss, "the reply has " + std::to_string(pixels.items()) +
                                             " images; other tiles had " + std::to_string(items_));
    }
    slot.pixels.emplace(std::move(pixels));
    slot.offsets.assign(items_ * 3, 0.0f);
    if (use_reference_) measure_interior(t);
    if (reference_) colour_match(t);
    const std::size_t r = t / cols(), c = t % cols();
    // This tile completes the regions of itself and of its upper and left neighbours.
    for (std::size_t dr = 0; dr <= std::min<std::size_t>(r, 1); ++dr)
      for (std::size_t dc = 0; dc <= std::min<std::size_t>(c, 1); ++dc)
        write_ready(r - dr, c - dc);
    return {};
  }

  // The area of tile t compared with the reference: its interior, in output pixels.
  std::pair<AxisSpan, AxisSpan> interior(std::size_t t) const {
    return {detail::axis_interior(plan_.rows, t / cols(), 8),
            detail::axis_interior(plan_.cols, t % cols(), 8)};
  }

  void measure_interior(std::size_t t) {
    TileSlot& slot = slots_[t];
    const auto [rows_in, cols_in] = interior(t);
    const int y0 = plan_.rows.tiles[t / cols()].start * 8;
    const int x0 = plan_.cols.tiles[t % cols()].start * 8;
    slot.interior_means.assign(items_ * 3, 0.0);
    for (std::size_t n = 0; n < items_; ++n) {
      slot.pixels->mean(n, rows_in.start - y0, cols_in.start - x0, rows_in.size, cols_in.size,
                        &slot.interior_means[n * 3]);
    }
  }

  // Shifts tile t so that its mean over its interior matches the reference's over the same area.
  void colour_match(std::size_t t) {
    TileSlot& slot = slots_[t];
    const auto [rows_in, cols_in] = interior(t);
    // Reference pixel p covers pixels [p * factor, (p + 1) * factor) of the whole output.
    const int ry0 = rows_in.start / factor_;
    const int ry1 = std::min(reference_->height(), (rows_in.end() + factor_ - 1) / factor_);
    const int rx0 = cols_in.start / factor_;
    const int rx1 = std::min(reference_->width(), (cols_in.end() + factor_ - 1) / factor_);
    const std::size_t ref_items = std::min(items_, reference_->items());
    for (std::size_t n = 0; n < ref_items; ++n) {
      double ref_mean[3];
      reference_->mean(n, ry0, rx0, ry1 - ry0, rx1 - rx0, ref_mean);
      for (std::size_t k = 0; k < 3; ++k) {
        slot.offsets[n * 3 + k] = static_cast<float>(ref_mean[k] - slot.interior_means[n * 3 + k]);
      }
    }
    if (grid_.form() == LatentForm::kVideo) share_offsets_over_clip(slot, ref_items);
  }

  // A video VAE's GroupNorm takes its statistics over the whole clip (PROTOCOL.md §7.1), so a
  // tile's colour shift is one per clip and channel: the mean of the per-frame estimates, which
  // averages out the downsampled reference's per-frame errors.
  void share_offsets_over_clip(TileSlot& slot, std::size_t items) const {
    const auto frames = static_cast<std::size_t>(std::max<std::int64_t>(1, slot.pixels->frames()));
    for (std::size_t first = 0; first + frames <= items; first += frames) {
      for (std::size_t k = 0; k < 3; ++k) {
        double sum = 0.0;
        for (std::size_t f = 0; f < frames; ++f)
          sum += slot.offsets[(first + f) * 3 + k];
        const auto mean = static_cast<float>(sum / static_cast<double>(frames));
        for (std::size_t f = 0; f < frames; ++f)
          slot.offsets[(first + f) * 3 + k] = mean;
      }
    }
  }

  bool arrived(std::size_t r, std::size_t c) const {
    return r >= rows() || c >= cols() || slots_[slot_of(r, c)].pixels.has_value() ||
           slots_[slot_of(r, c)].freed;
  }
  bool written(std::size_t r, std::size_t c) const { return slots_[slot_of(r, c)].written; }

  void write_ready(std::size_t r, std::size_t c) {
    TileSlot& slot = slots_[slot_of(r, c)];
    if (slot.written || !slot.pixels) return;
    if (use_reference_ && !reference_) return;
    if (!arrived(r + 1, c) || !arrived(r, c + 1) || !arrived(r + 1, c + 1)) return;
    write_own(r, c);
    slot.written = true;
    for (std::size_t dr = 0; dr <= 1; ++dr)
      for (std::size_t dc = 0; dc <= 1; ++dc)
        free_if_done(r + dr, c + dc);
  }

  void free_if_done(std::size_t r, std::size_t c) {
    if (r >= rows() || c >= cols()) return;
    TileSlot& slot = slots_[slot_of(r, c)];
    if (slot.freed || !slot.written) return;
    if (r > 0 && !written(r - 1, c)) return;
    if (c > 0 && !written(r, c - 1)) return;
    if (r > 0 && c > 0 && !written(r - 1, c - 1)) return;
    slot.pixels.reset();
    slot.offsets = {};
    slot.interior_means = {};
    slot.levels = {};
    slot.freed = true;
    --held_;
  }

  // Where a tile's weight is exactly 1, in output pixels of the whole axis: there it alone
  // gives the output.
  static AxisSpan full_weight_span(const std::vector<float>& weights, int origin) {
    const auto first = std::find(weights.begin(), weights.end(), 1.0f);
    if (first == weights.end()) return {origin, 0};
    const auto last = std::find(weights.rbegin(), weights.rend(), 1.0f).base();
    return {origin + static_cast<int>(first - weights.begin()), static_cast<int>(last - first)};
  }

  // Tile (rr, cc)'s output level for each input level of item n, shifted by its offsets.
  const detail::LevelTable& levels(std::size_t rr, std::size_t cc, std::size_t n) {
    TileSlot& slot = slots_[slot_of(rr, cc)];
    if (slot.levels.empty()) {
      for (std::size_t item = 0; item < items_; ++item)
        slot.levels.push_back(detail::shifted_levels(slot.offsets.data() + item * 3));
    }
    return slot.levels[n];
  }

  // Writes the pixels tile (r, c) owns. Most of them lie where one tile has full weight: with
  // 8-bit replies and output those are a table lookup per sample (the same value as the blend);
  // the rest, in the overlaps, blend every contributor's colour-matched value times its row and
  // column weights. The lookups matter because the colour reference usually arrives last, and
  // then the whole output is written at once.
  void write_own(std::size_t r, std::size_t c) {
    const int oy0 = plan_.rows.own_begin(r) * 8, oy1 = plan_.rows.own_end(r) * 8;
    const int ox0 = plan_.cols.own_begin(c) * 8, ox1 = plan_.cols.own_end(c) * 8;
    const bool bytes =
        sink_->holds_bytes() && slots_[slot_of(r, c)].pixels->dtype() == DType::kUInt8;
    for (std::size_t n = 0; n < items_; ++n) {
      for (int y = oy0; y < oy1; ++y) {
        std::optional<std::size_t> alone;  // the row of tiles with full weight at y
        for (std::size_t rr = r; bytes && rr < std::min(r + 2, rows()); ++rr) {
          if (y >= row_full_[rr].start && y < row_full_[rr].end()) alone = rr;
        }
        int x = ox0;
        for (std::size_t cc = c; alone && cc < std::min(c + 2, cols()); ++cc) {
          const int a = std::max(x, col_full_[cc].start), b = std::min(ox1, col_full_[cc].end());
          if (b <= a) continue;
          if (a > x) blend(r, c, n, y, x, a);
          const int ty = y - plan_.rows.tiles[*alone].start * 8;
          const int tx = a - plan_.cols.tiles[cc].start * 8;
          const std::uint8_t* source = slots_[slot_of(*alone, cc)].pixels->bytes(n, ty, tx);
          sink_->write_levels(n, y, a, b - a, source, levels(*alone, cc, n));
          rewrite_clipped(n, y, a, b - a, source,
                          slots_[slot_of(*alone, cc)].offsets.data() + n * 3);
          x = b;
        }
        if (x < ox1) blend(r, c, n, y, x, ox1);
      }
    }
  }

  // Sample k of pixel (y, x) of item n plus its tile's shift, with shift_sample's rule for a
  // sample the tile clipped.
  float shifted(std::size_t n, int y, int x, std::size_t k, float value, float offset) const {
    if (!detail::clipped_inwards(value, offset)) return value + offset;
    if (!reference_ || n >= reference_->items())
      return detail::shift_sample(value, offset, nullptr);
    const int ry = std::min(reference_->height() - 1, y / factor_);
    const int rx = std::min(reference_->width() - 1, x / factor_);
    float rgb[3];
    reference_->read_row(n, ry, rx, 1, rgb);
    return detail::shift_sample(value, offset, &rgb[k]);
  }

  // After a row was written through a level table: its clipped samples again, by shifted().
  void rewrite_clipped(std::size_t n, int y, int x0, int count, const std::uint8_t* source,
                       const float* offset) {
    for (int i = 0; i < count; ++i) {
      const std::uint8_t* pixel = source + static_cast<std::size_t>(i) * 3;
      bool clipped = false;
      for (std::size_t k = 0; k < 3; ++k)
        clipped =
            clipped || (pixel[k] == 0 && offset[k] > 0.0f) || (pixel[k] == 255 && offset[k] < 0.0f);
      if (!clipped) continue;
      float rgb[3];
      for (std::size_t k = 0; k < 3; ++k)
        rgb[k] = shifted(n, y, x0 + i, k, static_cast<float>(pixel[k]) / 127.5f - 1.0f, offset[k]);
      sink_->write_row(n, y, x0 + i, 1, rgb);
    }
  }

  // Writes pixels [x0, x1) of row y of item n, within the region tile (r, c) owns, as the sum of
  // every contributor's colour-matched value times its row and column weights.
  void blend(std::size_t r, std::size_t c, std::size_t n, int y, int x0, int x1) {
    const auto width = static_cast<std::size_t>(x1 - x0);
    acc_.assign(width * 3, 0.0f);
    row_.resize(width * 3);
    for (std::size_t rr = r; rr < std::min(r + 2, rows()); ++rr) {
      const AxisSpan tr = plan_.rows.tiles[rr];
      if (y < tr.start * 8 || y >= tr.end() * 8) continue;
      const float wy = row_weights_[rr][static_cast<std::size_t>(y - tr.start * 8)];
      if (wy == 0.0f) continue;
      for (std::size_t cc = c; cc < std::min(c + 2, cols()); ++cc) {
        const AxisSpan tc = plan_.cols.tiles[cc];
        const int a = std::max(x0, tc.start * 8), b = std::min(x1, tc.end() * 8);
        if (b <= a) continue;
        const TileSlot& from = slots_[slot_of(rr, cc)];
        from.pixels->read_row(n, y - tr.start * 8, a - tc.start * 8, b - a, row_.data());
        const float* off = from.offsets.data() + n * 3;
        const std::vector<float>& wx = col_weights_[cc];
        for (int x = a; x < b; ++x) {
          const float w = wy * wx[static_cast<std::size_t>(x - tc.start * 8)];
          const std::size_t src = static_cast<std::size_t>(x - a) * 3;
          const std::size_t dst = static_cast<std::size_t>(x - x0) * 3;
          for (std::size_t k = 0; k < 3; ++k)
            acc_[dst + k] += w * shifted(n, y, x, k, row_[src + k], off[k]);
        }
      }
    }
    sink_->write_row(n, y, x0, x1 - x0, acc_.data());
  }

  detail::Engine& engine_;
  const Endpoint& endpoint_;
  const DecodeOptions& options_;
  LatentGrid grid_;
  TileGrid plan_;
  std::vector<TileSlot> slots_;
  std::vector<std::vector<float>> row_weights_, col_weights_;
  std::vector<AxisSpan> row_full_, col_full_;
  std::vector<float> acc_, row_;  // blend()'s rows, kept to avoid an allocation per row
  DecodeOptions tile_options_;
  bool use_reference_ = true;
  std::size_t first_tile_ = 1;
  std::size_t hold_limit_ = 0;
  std::size_t held_ = 0;
  std::size_t items_ = 0;
  int factor_ = 1;
  Tensor reference_latents_;
  std::optional<TilePixels> reference_;
  std::optional<detail::PixelSink> sink_;
};

}  // namespace

bool decode_needs_tiling(const TensorView& latents, const DecodeOptions& options) noexcept {
  if (decode_needs_chunking(latents, options)) return true;
  if (options.tiling.mode == TileMode::kOff) return false;
  if (options.tiling.mode == TileMode::kOn) return true;
  const auto size = output_size(latents, options);
  if (!size) return false;
  return size->first > options.tiling.max_image_side ||
         size->second > options.tiling.max_image_side;
}

Result<DecodeOutput> detail::tiled_decode(Engine& engine, const Endpoint& endpoint,
                                          const TensorView& latents, const DecodeOptions& options) {
  if (decode_needs_chunking(latents, options)) {
    return chunked_decode(engine, endpoint, latents, options);
  }
  if (options.output_type == OutputType::kMp4) {
    return invalid(
        "MP4 output cannot be tiled: decode the frames tiled with OutputType::kUInt8 and encode "
        "the video locally, or set tiling.mode to kOff");
  }
  RVAE_ASSIGN_OR_RETURN(LatentGrid grid, LatentGrid::from(latents, options));
  const bool video = grid.form() == LatentForm::kVideo;
  if (options.output_type == OutputType::kImage && (video || grid.batch() != 1)) {
    return invalid("an image reply holds one image: it needs image latents with batch 1");
  }
  const int align = grid.form() == LatentForm::kPacked ? 2 : 1;
  RVAE_ASSIGN_OR_RETURN(TileGrid plan, detail::plan_tile_grid(grid.height(), grid.width(),
                                                              options.tiling, align, "decode"));
  if (plan.count() == 1) {
    // One tile is the plain request: the same bytes out, the same reply back.
    DecodeOptions one = options;
    one.tiling.mode = TileMode::kOff;
    return engine.decode_async(endpoint, latents, one).get();
  }
  if (!options.stream.active()) {
    TiledDecode call(engine, endpoint, options, std::move(grid), std::move(plan));
    return call.run();
  }
  // A stream gets the joined output: the tiles' replies are not the caller's frames. What the
  // stream cannot serve is refused before anything is sent.
  RVAE_ASSIGN_OR_RETURN(ReplyLayout layout, engine.reply_layout(endpoint, latents, options));
  RVAE_TRY(detail::ReplyStreamer::check_request(options.stream, layout));
  DecodeOptions joined = options;
  joined.stream = {};
  TiledDecode call(engine, endpoint, joined, std::move(grid), std::move(plan));
  RVAE_ASSIGN_OR_RETURN(DecodeOutput output, call.run());
  output.layout = layout;
  detail::ReplyStreamer streamer(options.stream, engine.workers(), nullptr,
                                 options.control.cancel.value_or(CancelToken()));
  RVAE_ASSIGN_OR_RETURN(Delivered delivered, streamer.deliver_whole(output));
  DecodeOutput streamed;
  streamed.type = output.type;
  streamed.layout = streamer.layout();
  streamed.delivered = delivered;
  streamed.timings = output.timings;
  return streamed;
}

}  // namespace rvae
