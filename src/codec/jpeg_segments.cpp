#include "codec/jpeg_segments.hpp"

#include <string>

namespace rvae::codec_detail {
namespace {

constexpr int kMaxTableId = 3;
constexpr int kMaxHuffmanCodes = 256;

Error corrupt(const std::string& what, std::size_t offset, const std::string& detail) {
  return Error(ErrorCode::kInvalidArgument,
               "corrupt JPEG: " + what + " at byte " + std::to_string(offset) + " " + detail);
}

bool is_progressive(std::uint8_t marker) {
  return marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE;
}

}  // namespace

std::optional<Error> check_huffman_tables(const std::uint8_t* body, std::size_t size,
                                          std::size_t offset, JpegTables* tables) {
  const std::string what = "Huffman table segment";
  if (size == 0) return corrupt(what, offset, "is empty");
  std::size_t pos = 0;
  while (pos < size) {
    if (size - pos < 17) {
      return corrupt(what, offset, "ends inside a table's 16 code counts");
    }
    const int table_class = body[pos] >> 4;
    const int id = body[pos] & 0x0F;
    if (table_class > 1 || id > kMaxTableId) {
      return corrupt(what, offset,
                     "has class " + std::to_string(table_class) + " id " + std::to_string(id) +
                         " (class 0..1, id 0..3)");
    }
    // The counts per code length must fit the code space (Kraft) and total at most 256:
    // stb_image 2.27 writes past its tables otherwise.
    int total = 0;
    std::uint32_t codes = 0;
    for (int length = 1; length <= 16; ++length) {
      const int count = body[pos + static_cast<std::size_t>(length)];
      total += count;
      codes += static_cast<std::uint32_t>(count);
      if (codes > (std::uint32_t{1} << length)) {
        return corrupt(what, offset,
                       "has more codes of length " + std::to_string(length) +
                           " or less than the code space holds");
      }
      codes <<= 1;
    }
    if (total > kMaxHuffmanCodes) {
      return corrupt(what, offset, "declares " + std::to_string(total) + " codes (at most 256)");
    }
    pos += 17;
    if (size - pos < static_cast<std::size_t>(total)) {
      return corrupt(what, offset,
                     "declares " + std::to_string(total) + " codes but has room for " +
                         std::to_string(size - pos));
    }
    (table_class == 0 ? tables->dc : tables->ac)[id] = true;
    (table_class == 0 ? tables->dc_counts : tables->ac_counts)[id] = body + pos - 16;
    pos += static_cast<std::size_t>(total);
  }
  return std::nullopt;
}

std::optional<Error> check_quantisation_tables(const std::uint8_t* body, std::size_t size,
                                               std::size_t offset, JpegTables* tables) {
  const std::string what = "quantisation table segment";
  if (size == 0) return corrupt(what, offset, "is empty");
  std::size_t pos = 0;
  while (pos < size) {
    const int precision = body[pos] >> 4;
    const int id = body[pos] & 0x0F;
    if (precision > 1 || id > kMaxTableId) {
      return corrupt(what, offset,
                     "has precision " + std::to_string(precision) + " id " + std::to_string(id) +
                         " (precision 0..1, id 0..3)");
    }
    const std::size_t table_bytes = precision == 0 ? 64 : 128;
    if (size - pos - 1 < table_bytes) {
      return corrupt(what, offset, "ends inside a table");
    }
    pos += 1 + table_bytes;
    tables->quant[id] = true;
  }
  return std::nullopt;
}

std::optional<Error> check_frame_components(std::uint8_t marker, const std::uint8_t* body,
                                            std::size_t size, std::size_t offset,
                                            JpegFrame* frame) {
  const std::string what = "frame header";
  if (size < 6) return corrupt(what, offset, "is too short");
  if (body[0] != 8) {
    return Error(ErrorCode::kInvalidArgument, "unsupported JPEG: " + std::to_string(body[0]) +
                                                  "-bit samples (only 8-bit JPEG is supported)");
  }
  const int components = body[5];
  if (components != 1 && components != 3 && components != 4) {
    return corrupt(what, offset, "has " + std::to_string(components) + " components (1, 3 or 4)");
  }
  if (size < 6 + 3 * static_cast<std::size_t>(components)) {
    return corrupt(what, offset, "is too short for its components");
  }
  frame->components = components;
  frame->progressive = is_progressive(marker);
  for (int i = 0; i < components; ++i) {
    const std::uint8_t* component = body + 6 + 3 * i;
    const int h = component[1] >> 4;
    const int v = component[1] & 0x0F;
    if (h < 1 || h > 4 || v < 1 || v > 4) {
      return corrupt(what, offset,
                     "gives component " + std::to_string(i) + " sampling " + std::to_string(h) +
                         "x" + std::to_string(v) + " (1..4 each)");
    }
    if (component[2] > kMaxTableId) {
      return corrupt(what, offset,
                     "gives component " + std::to_string(i) + " quantisation table " +
                         std::to_string(component[2]) + " (0..3)");
    }
    for (int j = 0; j < i; ++j) {
      if (frame->component_ids[j] == component[0]) {
        return corrupt(what, offset, "has component id " + std::to_string(component[0]) + " twice");
      }
    }
    frame->component_ids[i] = component[0];
    frame->quant_tables[i] = component[2];
  }
  return std::nullopt;
}

std::optional<Error> check_scan_header(const std::uint8_t* body, std::size_t size,
                                       std::size_t offset, const JpegFrame& frame,
                                       const JpegTables& tables) {
  const std::string what = "scan header";
  if (size < 1) return corrupt(what, offset, "is empty");
  const int count = body[0];
  if (count < 1 || count > frame.components) {
    return corrupt(what, offset,
                   "has " + std::to_string(count) + " components; the frame has " +
                       std::to_string(frame.components));
  }
  if (size != 4 + 2 * static_cast<std::size_t>(count)) {
    return corrupt(
        what, offset,
        "has length " + std::to_string(size + 2) + " but " + std::to_string(count) + " components");
  }
  const std::uint8_t* tail = body + 1 + 2 * count;
  const int spectral_start = tail[0];
  const int high = tail[2] >> 4;
  // Which Huffman tables this scan reads: a sequential scan both; a progressive DC scan its DC
  // tables, except a refinement (Ah > 0), which reads raw bits; an AC scan its AC table.
  const bool reads_dc = !frame.progressive || (spectral_start == 0 && high == 0);
  const bool reads_ac = !frame.progressive || spectral_start > 0;
  bool used[4] = {false, false, false, false};
  for (int i = 0; i < count; ++i) {
    const std::uint8_t id = body[1 + 2 * i];
    const std::uint8_t selectors = body[2 + 2 * i];
    int which = 0;
    while (which < frame.components && frame.component_ids[which] != id)
      ++which;
    if (which == frame.components || used[which]) {
      return corrupt(what, offset,
                     "names component id " + std::to_string(id) +
                         (which == frame.components ? ", which the frame lacks" : " twice"));
    }
    used[which] = true;
    const int dc = selectors >> 4;
    const int ac = selectors & 0x0F;
    if (dc > kMaxTableId || ac > kMaxTableId) {
      return corrupt(what, offset, "names Huffman tables above 3");
    }
    const std::string component = "component id " + std::to_string(id);
    if (!tables.quant[frame.quant_tables[which]]) {
      return corrupt(what, offset,
                     "decodes " + component + " with quantisation table " +
                         std::to_string(frame.quant_tables[which]) + ", which is not defined");
    }
    if ((reads_dc && !tables.dc[dc]) || (reads_ac && !tables.ac[ac])) {
      const bool dc_missing = reads_dc && !tables.dc[dc];
      return corrupt(what, offset,
                     "decodes " + component + " with " + (dc_missing ? "DC" : "AC") +
                         " Huffman table " + std::to_string(dc_missing ? dc : ac) +
                         ", which is not defined");
    }
  }
  const int spectral_end = tail[1];
  const int low = tail[2] & 0x0F;
  bool ok;
  if (frame.progressive) {
    // A DC scan covers coefficient 0 only; an AC scan covers one component (ITU T.81 G.1.1.1).
    ok = spectral_start <= spectral_end && spectral_end <= 63 && high <= 13 && low <= 13 &&
         (spectral_start == 0 ? spectral_end == 0 : count == 1);
  } else {
    ok = spectral_start == 0 && spectral_end <= 63 && high == 0 && low == 0;
  }
  if (!ok) {
    return corrupt(what, offset,
                   "has spectral selection " + std::to_string(spectral_start) + ".." +
                       std::to_string(spectral_end) + " and approximation " + std::to_string(high) +
                       "/" + std::to_string(low) + ", invalid for a " +
                       (frame.progressive ? "progressive" : "sequential") + " frame");
  }
  return std::nullopt;
}

}  // namespace rvae::codec_detail
