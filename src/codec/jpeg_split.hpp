// Two-thread decode of one large sequential JPEG, through libjpeg-turbo's libjpeg API (the
// TurboJPEG 2.x API cannot start mid-image). Huffman data can only be read in order, so the
// second thread walks the Huffman codes above its rows without decoding them (jpeg_resume.hpp)
// while the first thread decodes from the top; the second takes over where the rows left above
// it are as many as the rows below, and decodes those from a stream resumed there. The pixels
// are identical to a whole-image decode (tests/codec/jpeg_split_test.cpp, jpeg_resume_test.cpp,
// fuzz/fuzz_jpeg_split.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "codec/jpeg_segments.hpp"

namespace rvae::codec_detail {

struct ResumeStream;  // jpeg_resume.hpp

/// Whether this build has the split decode (RVAE_JPEG_SPLIT, with libjpeg's API found:
/// RVAE_HAVE_JPEG_SPLIT). These two functions exist in every build; the rest of this header
/// only when it does.
bool jpeg_split_supported() noexcept;
/// How many split decodes have started in this process: tests see whether a decode split.
std::uint64_t split_decodes_started() noexcept;

#if defined(RVAE_HAVE_JPEG_SPLIT)

/// What the header says about splitting a JPEG.
struct JpegSplitPlan {
  /// A layout the Huffman walker takes (walkable_mcu_height), at least four rows of MCUs high
  /// so neither thread gets only edge rows. Other files read all their scans before the first
  /// row or have restart intervals the walker does not follow: they decode on one thread.
  bool splittable = false;
  int width = 0;
  int height = 0;
  /// The height of one row of MCUs (8 or 16): the second thread starts on a multiple of it.
  int mcu_rows = 0;
  /// The header scan_jpeg read, which the second thread's walker opens with.
  JpegHeader header;
};

/// Plans from the header scan_jpeg read; reads no bytes itself.
JpegSplitPlan plan_jpeg_split(const JpegHeader& header) noexcept;

/// Counts, while it lives, one thread decoding a JPEG (worth_splitting reads the count).
class RunningJpegDecode {
 public:
  RunningJpegDecode() noexcept;
  ~RunningJpegDecode();
  RunningJpegDecode(const RunningJpegDecode&) = delete;
  RunningJpegDecode& operator=(const RunningJpegDecode&) = delete;
};

/// Whether an image of this size is worth a second thread: large enough to repay starting one,
/// and a core is free (fewer threads decoding JPEGs in the process than cores; the caller's
/// own RunningJpegDecode included). A batch that keeps every core decoding gains nothing
/// from splitting and would pay the repeated Huffman reading.
bool worth_splitting(int width, int height) noexcept;

/// Decodes a splittable JPEG (`data` is what `plan.header` was read from) into `rgb` (width *
/// height * 3 bytes) on the calling thread and a second one, the boundary found while both run.
/// `second_from` (when not null) gets the second thread's first row, 0 when it took none and
/// the first thread decoded the whole image (the walk failed, or never got ahead). False (with
/// the first failure's reason) when either part fails or no thread can be started; the caller
/// then decodes the whole image.
bool balanced_decode_jpeg_rgb(const std::uint8_t* data, std::size_t size, const JpegSplitPlan& plan,
                              std::uint8_t* rgb, std::string* reason, int* second_from) noexcept;

/// Why decode_resume_stream_rgb refuses a tail holding 0xFF 0xFF... 0x00 (jpeg_split.cpp,
/// TailScan); the balanced decode walks past such bytes or leaves the rows to its first thread.
inline constexpr char kFillBeforeZeroReason[] = "fill bytes before a stuffed zero in the scan";

/// Decodes all of a resume stream's rows (JpegRowScanner::resume_stream) into `rgb` (width *
/// stream.height * 3 bytes) the way the balanced decode's second thread does: pixels equal to
/// the whole image's from the stream's third row of MCUs on, or false with the reason. On
/// corrupt data it may refuse a file the whole-image decode accepts (libjpeg-turbo's fast
/// Huffman path passes over some bad codes its slow path warns about); it accepts one the whole
/// decode refuses only for stray bytes after the last MCU (jpeg_resume.hpp), with its pixels.
bool decode_resume_stream_rgb(const ResumeStream& stream, int width, std::uint8_t* rgb,
                              std::string* reason) noexcept;

#endif  // RVAE_HAVE_JPEG_SPLIT

}  // namespace rvae::codec_detail
