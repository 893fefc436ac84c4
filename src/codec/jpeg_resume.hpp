// Resuming a baseline JPEG's decode at a row of MCUs. Huffman data can only be read in order,
// and libjpeg reads it together with everything else (jpeg_skip_scanlines still decodes every
// coefficient), so a second thread that wants to start halfway down pays half a decode to get
// there. This scanner only walks the codes: it keeps the bit position and the DC predictors and
// nothing else. From where it stands it writes a small JPEG that decodes to the same pixels:
// the original header (with a new height), one row of placeholder MCUs whose bits end at the
// original's bit offset and whose DC values leave libjpeg's predictors where the original's
// are, then the original entropy data from that byte on, unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/jpeg_segments.hpp"

namespace rvae::codec_detail {

/// A canonical Huffman table from a DHT segment: codes for writing, lookups for reading.
struct HuffmanTable {
  bool defined = false;
  std::uint16_t code[256] = {};
  std::uint8_t length[256] = {};  // 0: the symbol has no code
  // Reading: the first kLookahead bits give the code's length and symbol (0: a longer code).
  static constexpr int kLookahead = 9;
  std::uint16_t fast[1 << kLookahead] = {};  // length << 8 | symbol
  // Canonical decoding of longer codes, as in the JPEG standard's DECODE (F.2.2.3).
  std::int32_t max_code[18] = {};
  std::int32_t value_offset[18] = {};
  std::uint8_t values[256] = {};
  // AC skipping: the bits a symbol and its value take, and how far it moves in the block.
  std::uint16_t ac_skip[1 << kLookahead] = {};  // 0: slow path
  // The window of the several-symbols lookup (JpegRowScanner's AC skipping).
  static constexpr int kMultiBits = 11;
};

/// The stream that resumes the decode; decode it through libjpeg with `prefix` then `tail`.
struct ResumeStream {
  std::vector<std::uint8_t> prefix;
  const std::uint8_t* tail = nullptr;
  std::size_t tail_size = 0;
  /// The resumed image's height: one placeholder row of MCUs, then the original's rows from
  /// the scanner's position to the bottom.
  int height = 0;
};

/// The pixel rows in a row of MCUs (8 or 16) when the walker takes this layout, else 0. It takes
/// one baseline or extended sequential Huffman scan of 8-bit samples without restart intervals,
/// gray (1x1) or three interleaved components in the frame's order with chroma at 1x1 and luma
/// at 1 or 2 each way: the layouts it is tested for.
int walkable_mcu_height(const JpegHeader& header) noexcept;

class JpegRowScanner {
 public:
  /// Starts at the scan's first MCU of `data` (the bytes scan_jpeg read `header` from, which
  /// must outlive the walk and its resume streams). False when walkable_mcu_height refuses the
  /// layout or a table the scan uses fails libjpeg's checks.
  bool open(const std::uint8_t* data, std::size_t size, const JpegHeader& header) noexcept;

  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  /// The pixel rows in one row of MCUs (8 or 16).
  int mcu_height() const noexcept { return mcu_height_; }
  int mcu_rows_total() const noexcept { return mcu_rows_; }
  /// The rows of MCUs walked so far: the scanner stands at the start of this row.
  int mcu_row() const noexcept { return row_; }

  /// Walks one row of MCUs. False on a code no table has, or when the row runs past the data
  /// or into a marker (libjpeg would warn there, and a decode that stops on warnings fail).
  bool skip_row() noexcept;

  /// The resume stream for the scanner's position: at least one row down and one row from the
  /// bottom (the first rows it keeps are those after the context row). False when the
  /// tables cannot express the placeholder row (a DC category or an odd-length code missing)
  /// or memory runs out; walking further may succeed.
  bool resume_stream(ResumeStream* out) const noexcept;

 private:
  struct Component {
    int id = 0;
    int h = 1;
    int v = 1;
    int dc_table = 0;
    int ac_table = 0;
  };

  void reset() noexcept;
  std::size_t consumed_bits() const noexcept {
    return loaded_bits_ - static_cast<std::size_t>(bits_);
  }

  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t sof_height_at_ = 0;  // offset of the SOF's height field
  std::size_t entropy_at_ = 0;     // first byte after the SOS segment
  int width_ = 0;
  int height_ = 0;
  int mcu_height_ = 0;
  int mcus_per_row_ = 0;
  int mcu_rows_ = 0;
  int component_count_ = 0;
  Component components_[3];
  HuffmanTable dc_[4];
  HuffmanTable ac_[4];
  // Per AC table in the scan: the whole symbols the next kMultiBits bits hold, as bits used |
  // coefficients advanced << 8 | advanced before the last << 16 | ends the block (1 << 24) |
  // valid (1 << 31). Built by open for the scan's tables, so left uninitialised here.
  std::uint32_t ac_multi_[4][1 << HuffmanTable::kMultiBits];
  // The header segments the resumed stream repeats: offset and length of each.
  std::size_t kept_at_[JpegHeader::kMaxKept] = {};
  std::size_t kept_size_[JpegHeader::kMaxKept] = {};
  int kept_count_ = 0;

  // Reading position.
  const std::uint8_t* next_ = nullptr;
  std::uint64_t buffer_ = 0;  // unread bits, left-aligned
  int bits_ = 0;
  std::size_t loaded_bits_ = 0;       // bits loaded into buffer_ since the scan began
  std::size_t real_bits_ = SIZE_MAX;  // bits loaded before a marker or the end (then zeros)
  std::uint32_t predictors_[3] = {};  // DC values modulo 2^32, as libjpeg's int accumulates
  int row_ = 0;
};

}  // namespace rvae::codec_detail
