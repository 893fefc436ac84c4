#include "frame_files.hpp"

#include <cstdio>

#include "common.hpp"
#include "output_files.hpp"
#include "rvae/image.hpp"
#include "rvae/latent_file.hpp"

namespace rvae::cli {
namespace {

std::string range_text(std::int64_t first, std::int64_t last) {
  return first == last ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(last);
}

}  // namespace

FrameFiles::FrameFiles(std::string target, bool directory, std::int64_t total)
    : target_(std::move(target)), directory_(directory), total_(total) {
  if (directory_) make_directories(target_);
}

void FrameFiles::write(const FrameView& frame) {
  const std::int64_t expected = written_.load(std::memory_order_relaxed);
  if (frame.index != expected || frame.index >= total_) {
    // The library promises frames in order; a gap would leave a hole that looks complete.
    throw Error(ErrorCode::kInternal, "frame " + std::to_string(frame.index) +
                                          " arrived where frame " + std::to_string(expected) +
                                          " was due");
  }
  if (directory_) {
    char name[32];
    std::snprintf(name, sizeof(name), "frame_%05lld.png", static_cast<long long>(frame.index));
    const Bytes png = take(encode_png(frame.image));
    take(write_file(join_path(target_, name), png.data(), png.size()));
  } else {
    if (total_ != 1) {
      throw Error(ErrorCode::kInvalidArgument, "the reply holds " + std::to_string(total_) +
                                                   " images; give a directory (ending in '/') as "
                                                   "-o OUT");
    }
    // write_image picks PNG or JPEG by the file's extension, as for a reply held whole.
    Image image;
    image.width = frame.image.width;
    image.height = frame.image.height;
    image.channels = frame.image.channels;
    const std::size_t size = static_cast<std::size_t>(image.width) *
                             static_cast<std::size_t>(image.height) *
                             static_cast<std::size_t>(image.channels);
    image.pixels.assign(frame.image.pixels, frame.image.pixels + size);
    take(write_image(target_, image));
  }
  written_.store(expected + 1, std::memory_order_release);
}

std::string FrameFiles::missing_text() const {
  const std::int64_t done = written();
  const std::string where = directory_ ? target_ : "'" + target_ + "'";
  if (done == 0) return "no frame of " + std::to_string(total_) + " written to " + where;
  std::string text =
      "wrote frames " + range_text(0, done - 1) + " of " + std::to_string(total_) + " to " + where;
  if (done < total_) text += "; " + range_text(done, total_ - 1) + " missing";
  return text;
}

}  // namespace rvae::cli
