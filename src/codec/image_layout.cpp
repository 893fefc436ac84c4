#include "codec/image_layout.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "codec/jpeg_segments.hpp"

namespace rvae::codec_detail {
namespace {

constexpr std::size_t kPngSignatureSize = 8;
constexpr std::uint32_t kPngMaxChunkLength = 0x7FFFFFFFu;  // PNG spec: 2^31 - 1
constexpr std::uint32_t kPngIhdrLength = 13;

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::uint32_t read_be16(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 8) | std::uint32_t{p[1]};
}

std::string hex_byte(std::uint8_t value) {
  static const char kDigits[] = "0123456789ABCDEF";
  return std::string("0x") + kDigits[value >> 4] + kDigits[value & 0xF];
}

Error truncated(const char* format, std::size_t offset) {
  return Error(ErrorCode::kDataLoss, std::string("truncated ") + format +
                                         ": the data ends at byte " + std::to_string(offset) +
                                         " before the end of the image");
}

Error corrupt(const char* format, const std::string& detail) {
  return Error(ErrorCode::kInvalidArgument, std::string("corrupt ") + format + ": " + detail);
}

bool is_chunk_type(const std::uint8_t* type) {
  for (int i = 0; i < 4; ++i) {
    const std::uint8_t c = type[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

bool chunk_is(const std::uint8_t* type, const char* name) {
  return std::memcmp(type, name, 4) == 0;
}

}  // namespace

ImageLayout scan_png(const std::uint8_t* data, std::size_t size) {
  ImageLayout layout;
  if (size < kPngSignatureSize) {
    layout.problem = truncated("PNG", size);
    return layout;
  }
  std::size_t pos = kPngSignatureSize;
  bool idat_data_seen = false;
  for (bool first = true;; first = false) {
    if (size - pos < 8) {
      layout.problem = truncated("PNG", size);
      return layout;
    }
    const std::uint32_t length = read_be32(data + pos);
    const std::uint8_t* type = data + pos + 4;
    const std::string at = " at byte " + std::to_string(pos);
    if (!is_chunk_type(type)) {
      layout.problem = corrupt("PNG", "chunk" + at + " has a type that is not 4 ASCII letters");
      return layout;
    }
    const std::string name(type, type + 4);
    if (length > kPngMaxChunkLength) {
      layout.problem = corrupt("PNG", "chunk '" + name + "'" + at + " claims " +
                                          std::to_string(length) + " bytes (limit 2^31-1)");
      return layout;
    }
    const std::size_t body = pos + 8;
    const std::size_t available = size - body;
    if (first) {
      if (name != "IHDR") {
        layout.problem = corrupt("PNG", "the first chunk is '" + name + "', not IHDR");
        return layout;
      }
      if (length != kPngIhdrLength) {
        layout.problem = corrupt("PNG", "IHDR has length " + std::to_string(length) + ", not 13");
        return layout;
      }
      // Read the header even if its CRC is missing, so oversized images are refused as such.
      if (available >= kPngIhdrLength) {
        const std::uint32_t width = read_be32(data + body);
        const std::uint32_t height = read_be32(data + body + 4);
        if (width == 0 || height == 0 || width > kPngMaxChunkLength ||
            height > kPngMaxChunkLength) {
          layout.problem = corrupt("PNG", "IHDR gives invalid dimensions " + std::to_string(width) +
                                              "x" + std::to_string(height));
          return layout;
        }
        const std::uint8_t color_type = data[body + 9];
        layout.has_dimensions = true;
        layout.width = width;
        layout.height = height;
        layout.has_alpha = (color_type & 4) != 0;
      }
    } else if (name == "IHDR") {
      layout.problem = corrupt("PNG", "a second IHDR chunk" + at);
      return layout;
    }
    if (available < std::size_t{length} + 4) {
      layout.problem = truncated("PNG", size);
      return layout;
    }
    if (name == "IEND") return layout;
    if (name == "tRNS") layout.has_alpha = true;
    if (name == "IDAT") {
      if (length == 0 && !idat_data_seen) layout.empty_idat_first = true;
      if (length > 0) idat_data_seen = true;
    }
    // A critical chunk (upper-case first letter) that is not standard cannot be decoded. stb
    // would refuse it too, but it formats that message in a shared static buffer, a data race
    // between threads; refusing here keeps stb away from that path.
    const bool critical = (type[0] & 0x20) == 0;
    if (critical && !first && !chunk_is(type, "PLTE") && !chunk_is(type, "IDAT")) {
      layout.problem = corrupt("PNG", "unknown critical chunk '" + name + "'" + at);
      return layout;
    }
    pos = body + length + 4;
  }
}

Bytes png_without_empty_idats(const std::uint8_t* data, std::size_t size) {
  Bytes out(data, data + 8);
  out.reserve(size);
  for (std::size_t pos = 8; pos + 12 <= size;) {
    const std::uint32_t length = read_be32(data + pos);
    const std::size_t end = pos + 12 + length;
    if (end > size) break;
    if (!(length == 0 && chunk_is(data + pos + 4, "IDAT")))
      out.insert(out.end(), data + pos, data + end);
    if (chunk_is(data + pos + 4, "IEND")) break;
    pos = end;
  }
  return out;
}

namespace {

constexpr std::uint8_t kMarkerPrefix = 0xFF;
constexpr std::uint8_t kSoi = 0xD8;
constexpr std::uint8_t kEoi = 0xD9;
constexpr std::uint8_t kSos = 0xDA;
constexpr std::uint8_t kTem = 0x01;
constexpr std::uint8_t kDht = 0xC4;
constexpr std::uint8_t kDqt = 0xDB;
constexpr std::uint8_t kDri = 0xDD;

bool is_restart(std::uint8_t marker) {
  return marker >= 0xD0 && marker <= 0xD7;
}

// SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC) which share that range.
bool is_frame_header(std::uint8_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Reads a frame header segment; `body` points after the marker, at the 2-byte length.
void read_frame_header(const std::uint8_t* body, std::uint32_t length, std::size_t offset,
                       ImageLayout* layout) {
  const std::string at = " at byte " + std::to_string(offset);
  if (length < 8) {
    layout->problem = corrupt(
        "JPEG", "frame header" + at + " is " + std::to_string(length) + " bytes, too short");
    return;
  }
  const std::uint32_t height = read_be16(body + 3);
  const std::uint32_t width = read_be16(body + 5);
  const int components = body[7];
  if (length != 8 + 3 * static_cast<std::uint32_t>(components)) {
    layout->problem =
        corrupt("JPEG", "frame header" + at + " has length " + std::to_string(length) + " but " +
                            std::to_string(components) + " components");
    return;
  }
  if (width == 0 || height == 0 || components == 0) {
    // Height 0 defers the height to a DNL marker, which decoders here do not support.
    layout->problem = corrupt("JPEG", "frame header gives " + std::to_string(width) + "x" +
                                          std::to_string(height) + " with " +
                                          std::to_string(components) + " components");
    return;
  }
  layout->has_dimensions = true;
  layout->width = width;
  layout->height = height;
  layout->components = components;
}

// Skips entropy-coded data from `pos`; returns the offset of the next marker's 0xFF, or `size`
// when the data ends first.
std::size_t skip_entropy_coded_data(const std::uint8_t* data, std::size_t size, std::size_t pos) {
  while (pos < size) {
    const void* found = std::memchr(data + pos, kMarkerPrefix, size - pos);
    if (found == nullptr) return size;
    pos = static_cast<std::size_t>(static_cast<const std::uint8_t*>(found) - data);
    if (size - pos < 2) return size;
    const std::uint8_t next = data[pos + 1];
    if (next == 0x00 || is_restart(next)) {
      pos += 2;  // a stuffed 0xFF data byte, or a restart marker inside the scan
    } else if (next == kMarkerPrefix) {
      pos += 1;  // fill byte
    } else {
      return pos;
    }
  }
  return size;
}

// What the two-thread decode needs of a segment before the first scan (JpegHeader). `at` is
// the marker's last 0xFF, `length` the segment's length field; the segment passed its checks.
void note_header_segment(std::uint8_t marker, const std::uint8_t* data, std::size_t at,
                         std::uint32_t length, const JpegFrame& frame, const JpegTables& tables,
                         JpegHeader* header) {
  const std::uint8_t* segment = data + at + 4;
  bool keep = false;
  if (is_frame_header(marker)) {
    keep = true;
    header->frame_marker = marker;
    header->height = static_cast<int>(read_be16(segment + 1));
    header->width = static_cast<int>(read_be16(segment + 3));
    header->components = frame.components;
    for (int c = 0; c < frame.components; ++c) {
      header->frame[c].id = segment[6 + 3 * c];
      header->frame[c].h = static_cast<std::uint8_t>(segment[7 + 3 * c] >> 4);
      header->frame[c].v = static_cast<std::uint8_t>(segment[7 + 3 * c] & 15);
    }
    header->sof_height_at = at + 5;
    // Other coding processes than Huffman (arithmetic: DAC), the JPG extensions, DNL.
    if (marker >= 0xC8) header->plain = false;
  } else if (marker == kDht || marker == kDqt || marker == 0xE0 || marker == 0xEE) {
    keep = true;
  } else if (marker == kDri) {
    header->restart_interval = static_cast<int>(read_be16(segment));
  } else if ((marker >= 0xC0 && marker <= 0xCF) || marker == 0xDC) {
    header->plain = false;  // DAC, JPG, DNL
  } else if (marker == kSos) {
    keep = true;
    const int count = segment[0];
    header->scan_components = count;
    for (int i = 0; i < count; ++i) {
      header->scan_ids[i] = segment[1 + 2 * i];
      header->dc_selector[i] = static_cast<std::uint8_t>(segment[2 + 2 * i] >> 4);
      header->ac_selector[i] = static_cast<std::uint8_t>(segment[2 + 2 * i] & 15);
    }
    header->spectral_start = segment[1 + 2 * count];
    header->spectral_end = segment[2 + 2 * count];
    header->approximation = segment[3 + 2 * count];
    std::copy(tables.dc_counts, tables.dc_counts + 4, header->dc_counts);
    std::copy(tables.ac_counts, tables.ac_counts + 4, header->ac_counts);
    header->entropy_at = at + 2 + length;
    header->complete = true;
  }
  if (keep) {
    if (header->kept_count == JpegHeader::kMaxKept) {
      header->plain = false;
      return;
    }
    header->kept_at[header->kept_count] = at;
    header->kept_size[header->kept_count++] = 2 + std::size_t{length};
  }
}

}  // namespace

ImageLayout scan_jpeg(const std::uint8_t* data, std::size_t size) {
  ImageLayout layout;
  bool seen_frame = false;
  bool seen_scan = false;
  JpegFrame frame;
  JpegTables tables;
  std::size_t pos = 2;  // after SOI
  for (;;) {
    if (pos >= size) {
      layout.problem = truncated("JPEG", size);
      return layout;
    }
    // Markers follow each other directly: libjpeg and stb skip stray bytes here, but valid files
    // have none, and treating them as corruption makes garbage fail clearly.
    if (data[pos] != kMarkerPrefix) {
      layout.problem = corrupt("JPEG", "expected a marker at byte " + std::to_string(pos) +
                                           ", found " + hex_byte(data[pos]));
      return layout;
    }
    const std::size_t marker_offset = pos;
    while (pos < size && data[pos] == kMarkerPrefix)
      ++pos;  // any number of fill bytes
    if (pos >= size) {
      layout.problem = truncated("JPEG", size);
      return layout;
    }
    const std::uint8_t marker = data[pos++];
    const std::string at = " at byte " + std::to_string(marker_offset);
    if (marker == 0x00 || marker == kSoi) {
      layout.problem = corrupt("JPEG", "unexpected marker 0xFF" + hex_byte(marker).substr(2) + at);
      return layout;
    }
    if (marker == kEoi) {
      if (!seen_scan) {
        layout.problem = corrupt("JPEG", "end-of-image marker" + at + " before any image data");
      }
      return layout;
    }
    if (marker == kTem || is_restart(marker)) {
      if (!seen_scan) layout.jpeg.plain = false;  // a resumed stream would not repeat it
      continue;                                   // markers without a length
    }
    if (size - pos < 2) {
      layout.problem = truncated("JPEG", size);
      return layout;
    }
    const std::uint32_t length = read_be16(data + pos);
    if (length < 2) {
      layout.problem = corrupt("JPEG", "segment" + at + " has length " + std::to_string(length));
      return layout;
    }
    if (size - pos < length) {
      layout.problem = truncated("JPEG", size);
      return layout;
    }
    const std::uint8_t* segment = data + pos + 2;
    const std::size_t segment_size = length - 2;
    if (is_frame_header(marker)) {
      if (seen_frame) {
        // Hierarchical JPEG (several frames) is supported by neither decoder.
        layout.problem = corrupt("JPEG", "a second frame header" + at);
        return layout;
      }
      seen_frame = true;
      read_frame_header(data + pos, length, marker_offset, &layout);
      if (layout.problem) return layout;
      layout.problem = check_frame_components(marker, segment, segment_size, marker_offset, &frame);
    } else if (marker == kDht) {
      layout.problem = check_huffman_tables(segment, segment_size, marker_offset, &tables);
    } else if (marker == kDqt) {
      layout.problem = check_quantisation_tables(segment, segment_size, marker_offset, &tables);
    } else if (marker == kDri && length != 4) {
      layout.problem = corrupt("JPEG", "restart interval segment" + at + " has length " +
                                           std::to_string(length) + ", not 4");
    }
    if (layout.problem) return layout;
    if (marker == kSos) {
      if (!seen_frame) {
        layout.problem = corrupt("JPEG", "scan" + at + " comes before the frame header");
        return layout;
      }
      layout.problem = check_scan_header(segment, segment_size, marker_offset, frame, tables);
      if (layout.problem) return layout;
    }
    if (!seen_scan) {
      note_header_segment(marker, data, pos - 2, length, frame, tables, &layout.jpeg);
    }
    pos += length;
    if (marker == kSos) {
      seen_scan = true;
      pos = skip_entropy_coded_data(data, size, pos);
    }
  }
}

}  // namespace rvae::codec_detail
