// Tiled encode: overlapping image tiles (multiples of 8 pixels) encoded at once, their latents
// shifted per channel to agree with each other over their overlaps and with an encode of the
// whole image downsampled to fit the cap, then cross-faded in latent space. Latents are 1/64 of
// the pixels per channel (times C/3), so every tile's reply is held until all are in and the
// shifts are fitted over the whole grid at once.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/try.hpp"
#include "rvae/tiled.hpp"
#include "tiling/tile_images.hpp"
#include "tiling/tile_plan.hpp"
#include "tiling/tile_runner.hpp"
#include "tiling/tiler.hpp"

namespace rvae {
namespace {

using detail::AxisSpan;
using detail::EncodeInput;
using detail::PixelGrid;
using detail::TileGrid;

// Latents [B, C, h, w] as float32 values, for means and blending.
struct FloatLatents {
  std::int64_t batch = 0, channels = 0;
  int height = 0, width = 0;
  std::vector<float> values;
  DType dtype = DType::kFloat32;

  static Result<FloatLatents> from(const Tensor& latents) {
    const Shape& s = latents.shape();
    if (s.size() != 4) {
      return Error(ErrorCode::kDataLoss,
                   "an encode reply of shape " + shape_to_string(s) + " is not [B,C,h,w] latents");
    }
    FloatLatents out;
    out.batch = s[0];
    out.channels = s[1];
    out.height = static_cast<int>(s[2]);
    out.width = static_cast<int>(s[3]);
    out.values = latents.to_floats();
    out.dtype = latents.dtype();
    return out;
  }
  double mean(std::int64_t b, std::int64_t c, int y, int x, int h, int w) const {
    double sum = 0;
    const float* plane = values.data() + static_cast<std::size_t>((b * channels + c) * height) *
                                             static_cast<std::size_t>(width);
    for (int r = y; r < y + h; ++r)
      for (int q = x; q < x + w; ++q)
        sum += plane[static_cast<std::size_t>(r) * static_cast<std::size_t>(width) +
                     static_cast<std::size_t>(q)];
    return sum / (static_cast<double>(h) * w);
  }
};

class TiledEncode {
 public:
  TiledEncode(detail::Engine& engine, const Endpoint& endpoint, const EncodeOptions& options,
              PixelGrid grid, TileGrid plan)
      : engine_(engine),
        endpoint_(endpoint),
        options_(options),
        grid_(std::move(grid)),
        plan_(std::move(plan)),
        waiting_(plan_.count()) {
    use_reference_ = options.tiling.colour_reference;
    first_tile_ = use_reference_ ? 1 : 0;
    tile_options_ = options;
    tile_options_.tiling.mode = TileMode::kOff;
    tile_options_.control = {};
    inputs_.resize(plan_.count() + first_tile_);
  }

  Result<EncodeOutput> run() {
    const auto started = std::chrono::steady_clock::now();
    detail::TileJobs<EncodeOutput> jobs;
    jobs.count = plan_.count() + first_tile_;
    jobs.describe = [this](std::size_t i) { return describe(i); };
    jobs.start = [this](std::size_t i, const RequestControl& control) { return start(i, control); };
    jobs.accept = [this](std::size_t i, EncodeOutput&& out) { return accept(i, std::move(out)); };
    detail::TileTotals totals;
    RVAE_TRY(detail::run_tiles(engine_, options_.control, options_.tiling.max_in_flight,
                               options_.tiling.on_progress, jobs, totals));
    const std::vector<double> offsets = solve_offsets();
    for (std::size_t t = 0; t < waiting_.size(); ++t) {
      merge(t, *waiting_[t], offsets);
      waiting_[t].reset();
    }
    RVAE_ASSIGN_OR_RETURN(Tensor floats, Tensor::from_floats({batch_, channels_, grid_.height() / 8,
                                                              grid_.width() / 8},
                                                             accumulated_));
    RVAE_ASSIGN_OR_RETURN(Tensor typed, convert(floats.view(), dtype_));
    EncodeOutput out;
    out.latents = std::move(typed);
    totals.write_to(out.timings, started);
    return out;
  }

 private:
  std::size_t cols() const noexcept { return plan_.cols.tiles.size(); }

  std::string describe(std::size_t i) const {
    if (i < first_tile_) return "the colour reference request (whole image, downsampled)";
    const std::size_t t = i - first_tile_;
    return "tile (" + std::to_string(t / cols()) + ", " + std::to_string(t % cols()) + ") of " +
           std::to_string(plan_.rows.tiles.size()) + " x " + std::to_string(cols());
  }

  Result<Pending<EncodeOutput>> start(std::size_t i, const RequestControl& control) {
    EncodeOptions one = tile_options_;
    one.control = control;
    EncodeInput input;
    if (i < first_tile_) {
      factor_ = grid_.downsample_factor(options_.tiling.max_image_side);
      RVAE_ASSIGN_OR_RETURN(input, grid_.downsample(factor_));
    } else {
      const std::size_t t = i - first_tile_;
      const AxisSpan row = plan_.rows.tiles[t / cols()];
      const AxisSpan col = plan_.cols.tiles[t % cols()];
      RVAE_ASSIGN_OR_RETURN(input,
                            grid_.crop(row.start * 8, col.start * 8, row.size * 8, col.size * 8));
    }
    if (input.image) {
      // encode_async PNG-encodes the image before it returns: nothing to keep.
      return engine_.encode_async(endpoint_, *input.image, one);
    }
    inputs_[i] = std::move(input.tensor);  // borrowed by the request until its reply
    return engine_.encode_async(endpoint_, inputs_[i].view(), one);
  }

  Result<void> accept(std::size_t i, EncodeOutput&& out) {
    inputs_[i] = Tensor();
    RVAE_ASSIGN_OR_RETURN(FloatLatents latents, FloatLatents::from(out.latents));
    if (accumulated_.empty()) {
      batch_ = latents.batch;
      channels_ = latents.channels;
      dtype_ = latents.dtype;
      accumulated_.assign(static_cast<std::size_t>(batch_ * channels_) *
                              static_cast<std::size_t>(grid_.height() / 8) *
                              static_cast<std::size_t>(grid_.width() / 8),
                          0.0f);
    } else if (latents.batch != batch_ || latents.channels != channels_) {
      return Error(ErrorCode::kDataLoss,
                   "the reply has shape " + shape_to_string(out.latents.shape()) +
                       "; other requests had batch " + std::to_string(batch_) + " and " +
                       std::to_string(channels_) + " channels");
    }
    if (i < first_tile_) {
      reference_.emplace(std::move(latents));
      return {};
    }
    const std::size_t t = i - first_tile_;
    const AxisSpan row = plan_.rows.tiles[t / cols()];
    const AxisSpan col = plan_.cols.tiles[t % cols()];
    if (latents.height != row.size || latents.width != col.size) {
      return Error(ErrorCode::kDataLoss, "the reply is " + std::to_string(latents.width) + "x" +
                                             std::to_string(latents.height) +
                                             " latent pixels, not " + std::to_string(col.size) +
                                             "x" + std::to_string(row.size));
    }
    waiting_[t].emplace(std::move(latents));
    return {};
  }

  // The mean of tile t's latents (item b, channel ch) over whole-latent rows [y0, y1) and
  // columns [x0, x1).
  double tile_mean(std::size_t t, std::int64_t b, std::int64_t ch, int y0, int y1, int x0,
                   int x1) const {
    const AxisSpan row = plan_.rows.tiles[t / cols()];
    const AxisSpan col = plan_.cols.tiles[t % cols()];
    return waiting_[t]->mean(b, ch, y0 - row.start, x0 - col.start, y1 - y0, x1 - x0);
  }

  // Per tile, item and channel, the shift that makes the tiles agree. Each tile's own estimate
  // comes from the reference (its mean against the reference's over the area it contributes);
  // neighbours' overlaps, where both tiles see the same image, give their relative shifts far
  // more precisely than a downsampled reference can. A least-squares fit of both (solved by
  // Gauss-Seidel: the system is small and diagonally dominant) keeps the overlaps seamless and
  // the overall level on the reference.
  std::vector<double> solve_offsets() const {
    const std::size_t tiles = waiting_.size();
    const auto planes = static_cast<std::size_t>(batch_ * channels_);
    std::vector<double> offsets(tiles * planes, 0.0);
    if (!reference_) return offsets;
    struct Pair {
      std::size_t a, b;
      int y0, y1, x0, x1;
    };
    std::vector<Pair> pairs;
    const std::size_t rows = plan_.rows.tiles.size();
    auto middle = [](int begin, int end) {
      const int quarter = (end - begin) / 4;
      return std::make_pair(begin + quarter, end - quarter);
    };
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < cols(); ++c) {
        const std::size_t t = r * cols() + c;
        const AxisSpan rin = detail::axis_interior(plan_.rows, r, 1);
        const AxisSpan cin = detail::axis_interior(plan_.cols, c, 1);
        if (c + 1 < cols()) {
          auto [x0, x1] = middle(plan_.cols.tiles[c + 1].start, plan_.cols.tiles[c].end());
          if (x1 > x0) pairs.push_back({t, t + 1, rin.start, rin.end(), x0, x1});
        }
        if (r + 1 < rows) {
          auto [y0, y1] = middle(plan_.rows.tiles[r + 1].start, plan_.rows.tiles[r].end());
          if (y1 > y0) pairs.push_back({t, t + cols(), y0, y1, cin.start, cin.end()});
        }
      }
    }
    constexpr double kReferenceWeight = 0.05;
    for (std::int64_t b = 0; b < batch_; ++b) {
      for (std::int64_t ch = 0; ch < channels_; ++ch) {
        std::vector<double> own(tiles);
        for (std::size_t t = 0; t < tiles; ++t)
          own[t] = reference_offset(t, b, ch);
        // d[p] = mean of a minus mean of b over the overlap: offset[a] - offset[b] should be -d.
        std::vector<double> d(pairs.size());
        for (std::size_t p = 0; p < pairs.size(); ++p) {
          const Pair& q = pairs[p];
          d[p] = tile_mean(q.a, b, ch, q.y0, q.y1, q.x0, q.x1) -
                 tile_mean(q.b, b, ch, q.y0, q.y1, q.x0, q.x1);
        }
        std::vector<double> o = own;
        for (int iteration = 0; iteration < 500; ++iteration) {
          for (std::size_t t = 0; t < tiles; ++t) {
            double sum = kReferenceWeight * own[t];
            double weight = kReferenceWeight;
            for (std::size_t p = 0; p < pairs.size(); ++p) {
              if (pairs[p].a == t) {
                sum += o[pairs[p].b] - d[p];
                weight += 1;
              } else if (pairs[p].b == t) {
                sum += o[pairs[p].a] + d[p];
                weight += 1;
              }
            }
            o[t] = sum / weight;
          }
        }
        for (std::size_t t = 0; t < tiles; ++t)
          offsets[t * planes + static_cast<std::size_t>(b * channels_ + ch)] = o[t];
      }
    }
    return offsets;
  }

  // Tile t's shift to match the reference's mean over the area it contributes.
  double reference_offset(std::size_t t, std::int64_t b, std::int64_t ch) const {
    const std::size_t r = t / cols(), c = t % cols();
    const AxisSpan rows_in = detail::axis_interior(plan_.rows, r, 1);
    const AxisSpan cols_in = detail::axis_interior(plan_.cols, c, 1);
    const int ry0 = rows_in.start / factor_;
    const int ry1 = std::min(reference_->height, (rows_in.end() + factor_ - 1) / factor_);
    const int rx0 = cols_in.start / factor_;
    const int rx1 = std::min(reference_->width, (cols_in.end() + factor_ - 1) / factor_);
    return reference_->mean(b, ch, ry0, rx0, ry1 - ry0, rx1 - rx0) -
           tile_mean(t, b, ch, rows_in.start, rows_in.end(), cols_in.start, cols_in.end());
  }

  // Adds tile t, shifted by its offsets, with its cross-fade weights.
  void merge(std::size_t t, const FloatLatents& tile, const std::vector<double>& offsets) {
    const std::size_t r = t / cols(), c = t % cols();
    const AxisSpan row = plan_.rows.tiles[r];
    const AxisSpan col = plan_.cols.tiles[c];
    const std::vector<float> wy = detail::axis_weights(plan_.rows, r, 1);
    const std::vector<float> wx = detail::axis_weights(plan_.cols, c, 1);
    const int h = grid_.height() / 8, w = grid_.width() / 8;
    const auto planes = static_cast<std::size_t>(batch_ * channels_);
    for (std::int64_t b = 0; b < batch_; ++b) {
      for (std::int64_t ch = 0; ch < channels_; ++ch) {
        const std::size_t plane = static_cast<std::size_t>(b * channels_ + ch);
        const double offset = offsets[t * planes + plane];
        const float* src =
            tile.values.data() + plane * static_cast<std::size_t>(row.size * col.size);
        float* dst =
            accumulated_.data() + plane * static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
        for (int y = 0; y < row.size; ++y) {
          for (int x = 0; x < col.size; ++x) {
            const float weight = wy[static_cast<std::size_t>(y)] * wx[static_cast<std::size_t>(x)];
            dst[static_cast<std::size_t>(row.start + y) * static_cast<std::size_t>(w) +
                static_cast<std::size_t>(col.start + x)] +=
                weight * static_cast<float>(src[y * col.size + x] + offset);
          }
        }
      }
    }
  }

  detail::Engine& engine_;
  const Endpoint& endpoint_;
  const EncodeOptions& options_;
  PixelGrid grid_;
  TileGrid plan_;
  EncodeOptions tile_options_;
  std::vector<Tensor> inputs_;
  std::vector<std::optional<FloatLatents>> waiting_;
  std::optional<FloatLatents> reference_;
  std::vector<float> accumulated_;
  std::int64_t batch_ = 0, channels_ = 0;
  DType dtype_ = DType::kFloat32;
  bool use_reference_ = true;
  std::size_t first_tile_ = 1;
  int factor_ = 1;
};

template <typename Input>
Result<EncodeOutput> tiled_encode_of(detail::Engine& engine, const Endpoint& endpoint,
                                     const Input& input, const EncodeOptions& options) {
  RVAE_ASSIGN_OR_RETURN(PixelGrid grid, PixelGrid::from(input));
  RVAE_ASSIGN_OR_RETURN(TileGrid plan, detail::plan_tile_grid(grid.height() / 8, grid.width() / 8,
                                                              options.tiling, 1, "encode"));
  if (plan.count() == 1) {
    // One tile is the plain request: the same bytes out, the same reply back.
    EncodeOptions one = options;
    one.tiling.mode = TileMode::kOff;
    return engine.encode_async(endpoint, input, one).get();
  }
  TiledEncode call(engine, endpoint, options, std::move(grid), std::move(plan));
  return call.run();
}

}  // namespace

bool encode_needs_tiling(int width, int height, const EncodeOptions& options) noexcept {
  if (options.tiling.mode == TileMode::kOff) return false;
  if (options.tiling.mode == TileMode::kOn) return true;
  return width > options.tiling.max_image_side || height > options.tiling.max_image_side;
}

Result<EncodeOutput> detail::tiled_encode(Engine& engine, const Endpoint& endpoint,
                                          const Image& image, const EncodeOptions& options) {
  return tiled_encode_of(engine, endpoint, image, options);
}

Result<EncodeOutput> detail::tiled_encode(Engine& engine, const Endpoint& endpoint,
                                          const TensorView& pixels, const EncodeOptions& options) {
  return tiled_encode_of(engine, endpoint, pixels, options);
}

}  // namespace rvae
