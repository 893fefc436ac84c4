// Two-thread decode of one large sequential JPEG, through libjpeg-turbo's libjpeg API (the
// TurboJPEG 2.x API cannot start mid-image). Huffman data can only be read in order, so the
// second thread first reads the Huffman codes above its rows without decoding them, then
// decodes its rows while the first thread decodes the rows above. balanced_decode_jpeg_rgb
// (what decode_image uses) reads them with its own walker (jpeg_resume.hpp) and settles the
// boundary while both run; split_decode_jpeg_rgb splits at a fixed row, the second thread
// skipping to it through libjpeg (jpeg_skip_scanlines). The pixels are identical to a
// whole-image decode (tests/codec/jpeg_split_test.cpp, jpeg_resume_test.cpp,
// fuzz/fuzz_jpeg_split.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace rvae::codec_detail {

struct ResumeStream;  // jpeg_resume.hpp

/// Whether this build has the split decode (libjpeg's API was found: RVAE_HAVE_JPEG_SPLIT).
/// These two functions exist in every build; the rest of this header only when it does.
bool jpeg_split_supported() noexcept;
/// How many split decodes have started in this process: tests see whether a decode split.
std::uint64_t split_decodes_started() noexcept;

/// What the header says about splitting a JPEG.
struct JpegSplitPlan {
  /// One sequential scan, 1 or 3 components, sampling factors of 1 or 2 (2 only for luma):
  /// the layouts a split decode is tested for. Progressive and multi-scan files read all
  /// their scans before the first row, so a second thread would only repeat that work.
  bool splittable = false;
  int width = 0;
  int height = 0;
  /// The height of one row of MCUs (8 or 16): the split rows are multiples of it.
  int mcu_rows = 0;
  /// The first row the second thread decodes, chosen so both threads finish together
  /// (0 when not splittable).
  int split_row = 0;
};

/// Reads the header. A header libjpeg refuses is not splittable (the caller's whole-image
/// decode then reports it).
JpegSplitPlan plan_jpeg_split(const std::uint8_t* data, std::size_t size) noexcept;

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

/// Decodes rows [first_row, last_row) to RGB into `rows` (the image's first row, `stride`
/// bytes apart). `first_row` must be 0 or a multiple of the plan's mcu_rows. Corrupt data
/// (a libjpeg warning included, as the whole-image decode treats it) is false with the reason.
bool decode_jpeg_rows(const std::uint8_t* data, std::size_t size, int first_row, int last_row,
                      std::uint8_t* rows, std::size_t stride, std::string* reason) noexcept;

/// Decodes a splittable JPEG into `rgb` (width * height * 3 bytes): rows [0, split_row) on the
/// calling thread, the rest on a second one. False (with the first failure's reason) when
/// either part fails or no thread can be started; the caller then decodes the whole image.
bool split_decode_jpeg_rgb(const std::uint8_t* data, std::size_t size, const JpegSplitPlan& plan,
                           std::uint8_t* rgb, std::string* reason) noexcept;

/// The same, with the boundary found while both threads run (what decode_image uses): the
/// second thread walks the Huffman codes without decoding (jpeg_resume.hpp) and takes over
/// where the first thread's remaining rows match its own; a file that walker does not take
/// splits at plan.split_row. `second_from` (when not null) gets the second thread's first
/// row, 0 when it took none and the first thread decoded the whole image.
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

}  // namespace rvae::codec_detail
