// The scanner mirrors libjpeg-turbo's Huffman decoder (jdhuff.c) in everything that moves the
// bit position: FF FF... 00 reads as one FF byte, a marker or the end of the data reads as
// zeros (libjpeg warns when it uses them, so the scanner fails when it does), a code longer
// than 16 bits is an error, and a block ends at EOB, at any run-0 symbol but ZRL, or when the
// coefficient index passes 63. tests/codec/jpeg_resume_test.cpp and fuzz/fuzz_jpeg_split.cpp
// check every row of MCUs against libjpeg's own decode.
#include "codec/jpeg_resume.hpp"

// Only the two-thread decode walks (RVAE_JPEG_SPLIT).
#if defined(RVAE_HAVE_JPEG_SPLIT)

#include <algorithm>
#include <cstring>
#include <new>

namespace rvae::codec_detail {
namespace {

constexpr std::uint16_t kSkipValid = 1u << 15;
constexpr std::uint16_t kSkipEndsBlock = 1u << 11;
constexpr std::uint32_t kMultiEndsBlock = 1u << 24;
constexpr std::uint32_t kMultiValid = 1u << 31;

// Builds `table` from a DHT's 16 counts and its values, with libjpeg's checks
// (jpeg_make_d_derived_tbl): at most 256 values, and no length's codes overflowing it.
bool build_table(const std::uint8_t* counts, const std::uint8_t* values, int total, bool is_dc,
                 HuffmanTable* table) {
  *table = HuffmanTable{};
  std::memcpy(table->values, values, static_cast<std::size_t>(total));
  int code = 0;
  int next = 0;
  for (int length = 1; length <= 16; ++length) {
    const int first = next;
    const int first_code = code;
    for (int i = 0; i < counts[length - 1]; ++i) {
      const int symbol = values[next++];
      if (is_dc && symbol > 15) return false;
      if (table->length[symbol] == 0) {
        table->length[symbol] = static_cast<std::uint8_t>(length);
        table->code[symbol] = static_cast<std::uint16_t>(code);
      }
      if (length <= HuffmanTable::kLookahead) {
        const int shift = HuffmanTable::kLookahead - length;
        const int r = symbol >> 4;
        const int s = symbol & 15;
        std::uint16_t skip = kSkipValid;
        if (s != 0) {
          skip |= static_cast<std::uint16_t>((length + s) | ((r + 1) << 6));
        } else if (r == 15) {
          skip |= static_cast<std::uint16_t>(length | (16 << 6));
        } else {
          skip |= static_cast<std::uint16_t>(length) | kSkipEndsBlock;
        }
        for (int fill = 0; fill < (1 << shift); ++fill) {
          table->fast[(code << shift) | fill] = static_cast<std::uint16_t>(length << 8 | symbol);
          table->ac_skip[(code << shift) | fill] = skip;
        }
      }
      ++code;
    }
    table->max_code[length] = next > first ? code - 1 : -1;
    table->value_offset[length] = first - first_code;
    // No code may be all ones: the next code must still fit in `length` bits.
    if (code >= (1 << length) && next > 0) return false;
    code <<= 1;
  }
  table->max_code[17] = INT32_MAX;
  table->defined = true;
  return true;
}

// The multi-symbol lookup of an AC table. An entry for a window of `length` valid bits is its
// first whole symbol (code and value bits, read with the one-symbol lookup; codes longer than
// kLookahead bits end a run) followed by the entry for the bits after it, so the windows are
// built from the shortest up: entries[(1 << length) + window], about 8 k steps.
void build_multi(const HuffmanTable& table, std::uint32_t* multi) {
  constexpr int kBits = HuffmanTable::kMultiBits;
  constexpr int kLook = HuffmanTable::kLookahead;
  std::uint32_t entries[2 << kBits];
  entries[1] = 0;  // no bits: no symbol
  for (int length = 1; length <= kBits; ++length) {
    for (std::uint32_t window = 0; window < (1u << length); ++window) {
      std::uint32_t& entry = entries[(1u << length) + window];
      entry = 0;
      const std::uint32_t index =
          length >= kLook ? window >> (length - kLook) : window << (kLook - length);
      const std::uint16_t fast = table.fast[index];
      const int code_length = fast >> 8;
      const int symbol = fast & 0xFF;
      const int r = symbol >> 4;
      const int s = symbol & 15;
      if (fast == 0 || code_length + s > length) continue;
      const int used = code_length + s;
      const bool ends = s == 0 && r != 15;
      const std::uint32_t step = ends ? 0u : (s != 0 ? static_cast<std::uint32_t>(r + 1) : 16u);
      const int rest_length = length - used;
      const std::uint32_t rest =
          ends ? 0u : entries[(1u << rest_length) + (window & ((1u << rest_length) - 1))];
      if (rest == 0) {
        entry = static_cast<std::uint32_t>(used) | step << 8 | (ends ? kMultiEndsBlock : 0u) |
                kMultiValid;
      } else {
        entry = (static_cast<std::uint32_t>(used) + (rest & 0xFF)) |
                (step + ((rest >> 8) & 0xFF)) << 8 | (step + ((rest >> 16) & 0xFF)) << 16 |
                (rest & kMultiEndsBlock) | kMultiValid;
      }
    }
  }
  std::memcpy(multi, entries + (1u << kBits), sizeof(std::uint32_t) << kBits);
}

int dc_category(int value) {
  int magnitude = value < 0 ? -value : value;
  int category = 0;
  while (magnitude != 0) {
    ++category;
    magnitude >>= 1;
  }
  return category;
}

// Writes entropy-coded bits, stuffing a 00 after every FF byte.
class BitWriter {
 public:
  explicit BitWriter(std::vector<std::uint8_t>* out) : out_(out) {}

  void put(std::uint32_t bits, int count) {
    for (int i = count - 1; i >= 0; --i) {
      accumulator_ = static_cast<std::uint8_t>(accumulator_ << 1u | ((bits >> i) & 1u));
      if (++filled_ == 8) {
        out_->push_back(accumulator_);
        if (accumulator_ == 0xFF) out_->push_back(0x00);
        accumulator_ = 0;
        filled_ = 0;
      }
    }
  }

  int pending_bits() const { return filled_; }
  // The pending bits at the top of a byte.
  std::uint8_t pending_byte() const {
    if (filled_ == 0) return 0;
    return static_cast<std::uint8_t>(accumulator_ << (8 - filled_));
  }

 private:
  std::vector<std::uint8_t>* out_;
  std::uint8_t accumulator_ = 0;
  int filled_ = 0;
};

}  // namespace

void JpegRowScanner::reset() noexcept {
  data_ = nullptr;
  size_ = 0;
  sof_height_at_ = 0;
  entropy_at_ = 0;
  width_ = height_ = mcu_height_ = mcus_per_row_ = mcu_rows_ = component_count_ = 0;
  for (Component& component : components_)
    component = Component{};
  for (HuffmanTable& table : dc_)
    table.defined = false;
  for (HuffmanTable& table : ac_)
    table.defined = false;
  kept_count_ = 0;
  next_ = nullptr;
  buffer_ = 0;
  bits_ = 0;
  loaded_bits_ = 0;
  real_bits_ = SIZE_MAX;
  std::fill(predictors_, predictors_ + 3, 0u);
  row_ = 0;
}

int walkable_mcu_height(const JpegHeader& header) noexcept {
  if (!header.complete || !header.plain || header.restart_interval != 0) return 0;
  if (header.frame_marker != 0xC0 && header.frame_marker != 0xC1) return 0;
  const int count = header.components;
  if (count != 1 && count != 3) return 0;
  // One interleaved scan, its components in the frame's order: libjpeg orders an MCU's blocks
  // by the frame's components.
  if (header.scan_components != count) return 0;
  for (int c = 0; c < count; ++c) {
    if (header.scan_ids[c] != header.frame[c].id) return 0;
    if (header.dc_counts[header.dc_selector[c]] == nullptr ||
        header.ac_counts[header.ac_selector[c]] == nullptr) {
      return 0;
    }
  }
  if (header.spectral_start != 0 || header.spectral_end != 63 || header.approximation != 0) {
    return 0;
  }
  const JpegHeader::Component& luma = header.frame[0];
  if (count == 1) {
    if (luma.h != 1 || luma.v != 1) return 0;
  } else {
    if (luma.h < 1 || luma.h > 2 || luma.v < 1 || luma.v > 2) return 0;
    for (int c = 1; c < 3; ++c) {
      if (header.frame[c].h != 1 || header.frame[c].v != 1) return 0;
    }
  }
  return 8 * luma.v;
}

bool JpegRowScanner::open(const std::uint8_t* data, std::size_t size,
                          const JpegHeader& header) noexcept {
  reset();
  mcu_height_ = walkable_mcu_height(header);
  bool inside = header.entropy_at <= size && header.sof_height_at + 2 <= size;
  for (int i = 0; i < header.kept_count; ++i) {
    inside = inside && header.kept_at[i] <= size && header.kept_size[i] <= size - header.kept_at[i];
  }
  if (mcu_height_ == 0 || !inside) {
    mcu_height_ = 0;
    return false;
  }
  width_ = header.width;
  height_ = header.height;
  component_count_ = header.components;
  for (int c = 0; c < component_count_; ++c) {
    Component& component = components_[c];
    component.id = header.frame[c].id;
    component.h = header.frame[c].h;
    component.v = header.frame[c].v;
    component.dc_table = header.dc_selector[c];
    component.ac_table = header.ac_selector[c];
  }
  // The tables the scan decodes with, with libjpeg's checks (jpeg_make_d_derived_tbl).
  bool built_dc[4] = {};
  bool built_ac[4] = {};
  for (int c = 0; c < component_count_; ++c) {
    for (const bool is_dc : {true, false}) {
      const int id = is_dc ? components_[c].dc_table : components_[c].ac_table;
      bool& built = is_dc ? built_dc[id] : built_ac[id];
      if (built) continue;
      const std::uint8_t* counts = is_dc ? header.dc_counts[id] : header.ac_counts[id];
      int total = 0;
      for (int i = 0; i < 16; ++i)
        total += counts[i];
      HuffmanTable* table = is_dc ? &dc_[id] : &ac_[id];
      if (!build_table(counts, counts + 16, total, is_dc, table)) {
        reset();
        return false;
      }
      if (!is_dc) build_multi(ac_[id], ac_multi_[id]);
      built = true;
    }
  }
  std::copy(header.kept_at, header.kept_at + header.kept_count, kept_at_);
  std::copy(header.kept_size, header.kept_size + header.kept_count, kept_size_);
  kept_count_ = header.kept_count;
  sof_height_at_ = header.sof_height_at;
  entropy_at_ = header.entropy_at;
  data_ = data;
  size_ = size;
  mcus_per_row_ = (width_ + 8 * components_[0].h - 1) / (8 * components_[0].h);
  mcu_rows_ = (height_ + mcu_height_ - 1) / mcu_height_;
  next_ = data_ + entropy_at_;
  return true;
}

namespace {

// The reading state, copied out of the scanner for the length of a row so that it stays in
// registers (stores through the file's bytes could otherwise alias it).
struct BitReader {
  const std::uint8_t* data;
  const std::uint8_t* next;
  const std::uint8_t* end;
  std::uint64_t buffer;
  int bits;
  std::size_t loaded;
  std::size_t real;

  [[gnu::always_inline]] void refill() {
    // Eight bytes without an FF among them: one load. The bytes past the whole ones that fit
    // land in the buffer's unused bits too; the next refill ORs the same bits there again.
    if (real == SIZE_MAX && end - next >= 8) {
      std::uint64_t word;
      std::memcpy(&word, next, 8);
      word = __builtin_bswap64(word);
      if (((~word - 0x0101010101010101u) & word & 0x8080808080808080u) == 0) {
        buffer |= word >> bits;
        const int count = (63 - bits) >> 3;
        next += count;
        bits += count * 8;
        loaded += static_cast<std::size_t>(count) * 8;
        return;
      }
    }
    while (bits <= 56) {
      std::uint32_t byte = 0;
      if (real == SIZE_MAX) {
        if (next < end && *next != 0xFF) {
          byte = *next++;
        } else {
          const std::uint8_t* probe = next + 1;
          while (probe < end && *probe == 0xFF)
            ++probe;
          if (next < end && probe < end && *probe == 0x00) {
            byte = 0xFF;
            next = probe + 1;
          } else {
            real = loaded;  // a marker, or the end: zeros from here
          }
        }
      }
      buffer |= static_cast<std::uint64_t>(byte) << (56 - bits);
      bits += 8;
      loaded += 8;
    }
  }

  [[gnu::always_inline]] std::uint32_t take(int count) {
    if (count == 0) return 0;
    const auto value = static_cast<std::uint32_t>(buffer >> (64 - count));
    buffer <<= count;
    bits -= count;
    return value;
  }

  [[gnu::always_inline]] bool decode(const HuffmanTable& table, int* symbol) {
    const std::uint16_t fast = table.fast[buffer >> (64 - HuffmanTable::kLookahead)];
    if (fast != 0) {
      take(fast >> 8);
      *symbol = fast & 0xFF;
      return true;
    }
    const auto peek = static_cast<std::int32_t>(buffer >> 48);
    for (int length = HuffmanTable::kLookahead + 1; length <= 16; ++length) {
      const std::int32_t code = peek >> (16 - length);
      if (code <= table.max_code[length]) {
        const int index = table.value_offset[length] + code;
        if (index < 0 || index > 255) return false;
        *symbol = table.values[index];
        take(length);
        return true;
      }
    }
    return false;
  }

  [[gnu::always_inline]] bool skip_block(const HuffmanTable& dc, const HuffmanTable& ac,
                                         const std::uint32_t* ac_multi, std::uint32_t* predictor) {
    if (bits < 32) refill();
    int category = 0;
    if (!decode(dc, &category)) return false;
    if (category != 0) {
      const std::uint32_t raw = take(category);
      // EXTEND (F.2.2.1): values below 2^(category-1) are negative.
      *predictor += raw < (1u << (category - 1)) ? raw - ((1u << category) - 1) : raw;
    }
    for (int k = 1; k < 64;) {
      if (bits < 32) refill();
      const std::uint32_t multi = ac_multi[buffer >> (64 - HuffmanTable::kMultiBits)];
      if (multi != 0 && k + static_cast<int>((multi >> 16) & 0xFF) < 64) {
        const int used = multi & 0xFF;
        buffer <<= used;
        bits -= used;
        if ((multi & kMultiEndsBlock) != 0) break;
        k += (multi >> 8) & 0xFF;
        continue;
      }
      const std::uint16_t skip = ac.ac_skip[buffer >> (64 - HuffmanTable::kLookahead)];
      if (skip != 0) {
        const int used = skip & 63;
        buffer <<= used;
        bits -= used;
        if ((skip & kSkipEndsBlock) != 0) break;
        k += (skip >> 6) & 31;
        continue;
      }
      int symbol = 0;
      if (!decode(ac, &symbol)) return false;
      const int r = symbol >> 4;
      const int s = symbol & 15;
      if (s != 0) {
        take(s);
        k += r + 1;
      } else if (r == 15) {
        k += 16;
      } else {
        break;
      }
    }
    return true;
  }
};

}  // namespace

bool JpegRowScanner::skip_row() noexcept {
  if (data_ == nullptr || row_ >= mcu_rows_) return false;
  BitReader reader{data_, next_, data_ + size_, buffer_, bits_, loaded_bits_, real_bits_};
  std::uint32_t predictors[3] = {predictors_[0], predictors_[1], predictors_[2]};
  bool ok = true;
  for (int mcu = 0; ok && mcu < mcus_per_row_; ++mcu) {
    for (int c = 0; c < component_count_; ++c) {
      const Component& component = components_[c];
      const HuffmanTable& dc = dc_[component.dc_table];
      const HuffmanTable& ac = ac_[component.ac_table];
      const std::uint32_t* multi = ac_multi_[component.ac_table];
      const int blocks = component.h * component.v;
      for (int block = 0; ok && block < blocks; ++block) {
        ok = reader.skip_block(dc, ac, multi, &predictors[c]);
      }
    }
  }
  next_ = reader.next;
  buffer_ = reader.buffer;
  bits_ = reader.bits;
  loaded_bits_ = reader.loaded;
  real_bits_ = reader.real;
  std::copy(predictors, predictors + 3, predictors_);
  if (!ok || (real_bits_ != SIZE_MAX && consumed_bits() > real_bits_)) {
    data_ = nullptr;
    return false;
  }
  ++row_;
  return true;
}

bool JpegRowScanner::resume_stream(ResumeStream* out) const noexcept {
  if (data_ == nullptr || row_ < 1 || row_ + 1 >= mcu_rows_) return false;
  const std::size_t consumed = consumed_bits();
  const std::size_t byte_index = consumed / 8;
  const int bit_offset = static_cast<int>(consumed % 8);
  // Where logical byte `byte_index` starts and ends in the file: walk from the scan's start,
  // an FF (with its fill bytes and stuffed 00) taking more than one byte.
  std::size_t byte_start = entropy_at_;
  for (std::size_t logical = 0; logical < byte_index;) {
    const auto* ff = static_cast<const std::uint8_t*>(
        std::memchr(data_ + byte_start, 0xFF, std::min(size_ - byte_start, byte_index - logical)));
    if (ff == nullptr) {
      byte_start += byte_index - logical;
      break;
    }
    logical += static_cast<std::size_t>(ff - (data_ + byte_start)) + 1;
    byte_start = static_cast<std::size_t>(ff - data_) + 1;
    while (byte_start < size_ && data_[byte_start] == 0xFF)
      ++byte_start;
    ++byte_start;  // the stuffed 00
  }
  if (byte_start >= size_) return false;
  std::size_t byte_end = byte_start + 1;
  if (data_[byte_start] == 0xFF) {
    while (byte_end < size_ && data_[byte_end] == 0xFF)
      ++byte_end;
    ++byte_end;
  }
  // The unread bits of that byte sit at the top of the buffer.
  const auto remainder = static_cast<std::uint8_t>(
      bit_offset == 0 ? 0 : (buffer_ >> (56 + bit_offset)) & ((1u << (8 - bit_offset)) - 1));

  // DC differences for the placeholder row: each component's first block carries the
  // predictor (libjpeg keeps 16 bits of it in the coefficient), every other block 0.
  int first_difference[3] = {};
  for (int c = 0; c < component_count_; ++c) {
    const auto value = static_cast<std::int16_t>(static_cast<std::uint16_t>(predictors_[c]));
    if (value == INT16_MIN) return false;
    first_difference[c] = value;
    const HuffmanTable& dc = dc_[components_[c].dc_table];
    if (dc.length[dc_category(value)] == 0 || dc.length[0] == 0) return false;
    if (ac_[components_[c].ac_table].length[0] == 0) return false;  // EOB
  }
  long long base_bits = 0;
  for (int c = 0; c < component_count_; ++c) {
    const HuffmanTable& dc = dc_[components_[c].dc_table];
    const HuffmanTable& ac = ac_[components_[c].ac_table];
    const long long blocks =
        static_cast<long long>(mcus_per_row_) * components_[c].h * components_[c].v;
    const int category = dc_category(first_difference[c]);
    base_bits +=
        dc.length[category] + category + (blocks - 1) * dc.length[0] + blocks * ac.length[0];
  }
  // AC coefficients in the very first block make up the bits the row still needs modulo 8.
  // Each costs its code and value bits; at most 7 of run 0-3 fit any block.
  const HuffmanTable& first_ac = ac_[components_[0].ac_table];
  const int needed = static_cast<int>(((bit_offset - base_bits) % 8 + 8) % 8);
  int symbol_for[8] = {-1, -1, -1, -1, -1, -1, -1, -1};  // residue -> a symbol costing it
  for (int symbol = 0; symbol < 256; ++symbol) {
    const int s = symbol & 15;
    if (s == 0 || (symbol >> 4) > 3 || first_ac.length[symbol] == 0) continue;
    const int cost = (first_ac.length[symbol] + s) % 8;
    if (symbol_for[cost] < 0) symbol_for[cost] = symbol;
  }
  // Fewest coefficients reaching each residue (breadth-first over residues).
  int steps[8];
  int via[8];
  int from[8];
  std::fill(steps, steps + 8, 99);
  steps[0] = 0;
  for (int round = 0; round < 7; ++round) {
    for (int residue = 0; residue < 8; ++residue) {
      if (steps[residue] != round) continue;
      for (int cost = 0; cost < 8; ++cost) {
        const int to = (residue + cost) % 8;
        if (symbol_for[cost] >= 0 && steps[to] > round + 1) {
          steps[to] = round + 1;
          via[to] = symbol_for[cost];
          from[to] = residue;
        }
      }
    }
  }
  if (steps[needed] > 7) return false;
  int padding[7];
  int padding_count = 0;
  for (int residue = needed; residue != 0; residue = from[residue]) {
    padding[padding_count++] = via[residue];
  }

  try {
    ResumeStream stream;
    std::vector<std::uint8_t>& prefix = stream.prefix;
    std::size_t header_bytes = 2;
    for (int i = 0; i < kept_count_; ++i)
      header_bytes += kept_size_[i];
    prefix.reserve(header_bytes + static_cast<std::size_t>(base_bits / 8) * 2 + 64);
    prefix.push_back(0xFF);
    prefix.push_back(0xD8);
    stream.height = height_ - row_ * mcu_height_ + mcu_height_;
    for (int i = 0; i < kept_count_; ++i) {
      const std::size_t at = prefix.size();
      prefix.insert(prefix.end(), data_ + kept_at_[i], data_ + kept_at_[i] + kept_size_[i]);
      if (sof_height_at_ >= kept_at_[i] && sof_height_at_ < kept_at_[i] + kept_size_[i]) {
        prefix[at + (sof_height_at_ - kept_at_[i])] = static_cast<std::uint8_t>(stream.height >> 8);
        prefix[at + (sof_height_at_ - kept_at_[i]) + 1] = static_cast<std::uint8_t>(stream.height);
      }
    }
    BitWriter writer(&prefix);
    for (int mcu = 0; mcu < mcus_per_row_; ++mcu) {
      for (int c = 0; c < component_count_; ++c) {
        const HuffmanTable& dc = dc_[components_[c].dc_table];
        const HuffmanTable& ac = ac_[components_[c].ac_table];
        for (int block = 0; block < components_[c].h * components_[c].v; ++block) {
          const bool first = mcu == 0 && block == 0;
          const int difference = first ? first_difference[c] : 0;
          const int category = dc_category(difference);
          writer.put(dc.code[category], dc.length[category]);
          if (category != 0) {
            const int raw = difference >= 0 ? difference : difference + (1 << category) - 1;
            writer.put(static_cast<std::uint32_t>(raw), category);
          }
          if (first && c == 0) {
            for (int i = 0; i < padding_count; ++i) {
              const int s = padding[i] & 15;
              writer.put(ac.code[padding[i]], ac.length[padding[i]]);
              writer.put(1u << (s - 1), s);
            }
          }
          writer.put(ac.code[0], ac.length[0]);
        }
      }
    }
    if (writer.pending_bits() != bit_offset) return false;
    std::size_t tail_at = byte_start;
    if (bit_offset != 0) {
      const auto joint = static_cast<std::uint8_t>(writer.pending_byte() | remainder);
      prefix.push_back(joint);
      if (joint == 0xFF) prefix.push_back(0x00);
      tail_at = byte_end;
    }
    stream.tail = data_ + tail_at;
    stream.tail_size = size_ - tail_at;
    *out = std::move(stream);
    return true;
  } catch (const std::bad_alloc&) {
    return false;
  }
}

}  // namespace rvae::codec_detail

#endif  // RVAE_HAVE_JPEG_SPLIT
