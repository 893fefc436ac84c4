// Checks of the JPEG table and header segments a decoder trusts. stb_image 2.27 writes out of
// bounds when a Huffman table declares more than 256 codes, and libjpeg-turbo reports other
// malformations only as warnings, so every DHT, DQT, SOF and SOS segment is checked here before
// any decoder sees the file. Each function gets the segment body after its 2-byte length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "rvae/error.hpp"

namespace rvae::codec_detail {

/// The frame header fields the scan-header check needs.
struct JpegFrame {
  int components = 0;
  std::uint8_t component_ids[4] = {0, 0, 0, 0};
  std::uint8_t quant_tables[4] = {0, 0, 0, 0};  ///< Tq per component.
  bool progressive = false;
};

/// Which tables the segments so far have defined. stb_image decodes a scan with whatever an
/// undefined table's memory holds (uninitialised heap: out-of-bounds reads, found by fuzzing),
/// so a scan may only use tables defined before it.
struct JpegTables {
  bool dc[4] = {false, false, false, false};
  bool ac[4] = {false, false, false, false};
  bool quant[4] = {false, false, false, false};
  /// Where each Huffman table's 16 code counts start in the file (its values follow them): the
  /// latest definition, as a decoder uses.
  const std::uint8_t* dc_counts[4] = {nullptr, nullptr, nullptr, nullptr};
  const std::uint8_t* ac_counts[4] = {nullptr, nullptr, nullptr, nullptr};
};

/// What the segments up to the first scan say, read once by scan_jpeg and passed down to the
/// two-thread decode (its plan, the Huffman walker and the stream it resumes from), so none of
/// them walks the header again. Offsets and pointers are into the scanned bytes.
struct JpegHeader {
  /// The frame header and the first scan header were read and passed their checks.
  bool complete = false;
  /// Before the scan, nothing the walker cannot repeat or ignore: no marker of another coding
  /// process (DAC, DNL, JPG), no marker without a length, at most kMaxKept kept segments.
  bool plain = true;
  std::uint8_t frame_marker = 0;  ///< SOF0..SOF15
  int width = 0;
  int height = 0;
  int restart_interval = 0;  ///< From the last DRI before the scan; 0: none.
  struct Component {
    std::uint8_t id = 0;
    std::uint8_t h = 0;  ///< Sampling factors.
    std::uint8_t v = 0;
  };
  int components = 0;
  Component frame[4];
  /// The first scan: its components' ids and table selectors, spectral selection and
  /// successive approximation (Ah << 4 | Al).
  int scan_components = 0;
  std::uint8_t scan_ids[4] = {0, 0, 0, 0};
  std::uint8_t dc_selector[4] = {0, 0, 0, 0};
  std::uint8_t ac_selector[4] = {0, 0, 0, 0};
  std::uint8_t spectral_start = 0;
  std::uint8_t spectral_end = 0;
  std::uint8_t approximation = 0;
  /// The Huffman tables defined before the scan (JpegTables::dc_counts, ac_counts).
  const std::uint8_t* dc_counts[4] = {nullptr, nullptr, nullptr, nullptr};
  const std::uint8_t* ac_counts[4] = {nullptr, nullptr, nullptr, nullptr};
  /// The segments a resumed stream repeats, in order, each from its marker's last 0xFF: SOF,
  /// DHT, DQT, APP0 and APP14 (JFIF and Adobe decide the colour space), and the SOS.
  static constexpr int kMaxKept = 32;
  std::size_t kept_at[kMaxKept] = {};
  std::size_t kept_size[kMaxKept] = {};
  int kept_count = 0;
  std::size_t sof_height_at = 0;  ///< The frame header's height field.
  std::size_t entropy_at = 0;     ///< The first byte after the scan header.
};

/// DHT: one or more tables, each class 0..1, id 0..3, at most 256 codes, wholly inside the
/// segment, and together filling it exactly.
std::optional<Error> check_huffman_tables(const std::uint8_t* body, std::size_t size,
                                          std::size_t offset, JpegTables* tables);

/// DQT: one or more tables, each 8-bit (64 bytes) or 16-bit (128 bytes), id 0..3, filling the
/// segment exactly.
std::optional<Error> check_quantisation_tables(const std::uint8_t* body, std::size_t size,
                                               std::size_t offset, JpegTables* tables);

/// SOF: 8-bit samples, 1, 3 or 4 components with sampling factors 1..4, quantisation table ids
/// 0..3 and distinct component ids. Fills `frame`. The caller has checked the length against
/// the component count and read the dimensions.
std::optional<Error> check_frame_components(std::uint8_t marker, const std::uint8_t* body,
                                            std::size_t size, std::size_t offset, JpegFrame* frame);

/// SOS: 1..4 components, each one of the frame's, Huffman table ids 0..3, the exact length,
/// spectral/approximation parameters a sequential or progressive frame allows, and every table
/// the scan decodes with (its components' quantisation tables, and the DC and/or AC Huffman
/// tables its kind of scan reads) already defined.
std::optional<Error> check_scan_header(const std::uint8_t* body, std::size_t size,
                                       std::size_t offset, const JpegFrame& frame,
                                       const JpegTables& tables);

}  // namespace rvae::codec_detail
