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
