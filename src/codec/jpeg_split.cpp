// Split JPEG decode through libjpeg's API. libjpeg reports errors by calling error_exit, which
// must not return: it longjmps back to the setjmp of the function that called into libjpeg.
// Those functions hold only trivially destructible locals between setjmp and the libjpeg calls,
// so the jump skips no destructor.
#include "codec/jpeg_split.hpp"

#include <atomic>

namespace rvae::codec_detail {
namespace {

std::atomic<std::uint64_t> splits_started{0};

[[maybe_unused]] void note_split_started() noexcept {
  splits_started.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

bool jpeg_split_supported() noexcept {
#if defined(RVAE_HAVE_JPEG_SPLIT)
  return true;
#else
  return false;
#endif
}

std::uint64_t split_decodes_started() noexcept {
  return splits_started.load(std::memory_order_relaxed);
}

}  // namespace rvae::codec_detail

#if defined(RVAE_HAVE_JPEG_SPLIT)

#include <algorithm>
#include <climits>
#include <csetjmp>
#include <cstdio>
#include <cstring>

// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>
// After jpeglib.h: the warning a source manager emits at the end of its data.
#include <jerror.h>

#include "codec/jpeg_resume.hpp"
#include "codec/pinned_thread.hpp"

namespace rvae::codec_detail {
namespace {

std::atomic<unsigned> running_decodes{0};

struct ErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jump_out(j_common_ptr cinfo) {
  auto* manager = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, manager->message);
  std::longjmp(manager->jump, 1);
}

// Level -1 is a warning: corrupt entropy data that libjpeg would paper over with grey. The
// whole-image decode stops on warnings (TJFLAG_STOPONWARNING), so a part does too.
void on_message(j_common_ptr cinfo, int level) {
  if (level < 0) jump_out(cinfo);
}

void install_errors(jpeg_decompress_struct* cinfo, ErrorManager* manager) {
  cinfo->err = jpeg_std_error(&manager->base);
  manager->base.error_exit = jump_out;
  manager->base.emit_message = on_message;
  manager->message[0] = '\0';
}

// Below this many pixels starting a thread costs about what it saves: see BENCHMARKS.md,
// "Codecs and untrusted input".
constexpr long long kMinSplitPixels = 384LL * 384LL;

// Messages are set only outside libjpeg's calls; a failed allocation leaves the reason empty
// rather than throwing out of a noexcept function.
void set_reason(std::string* reason, const char* text) noexcept {
  if (reason == nullptr) return;
  try {
    *reason = text;
  } catch (...) {
    reason->clear();
  }
}

// Where the first thread's rows end, decided while both threads run. Until the second thread
// takes over, the state is the first thread's frontier (the rows it has claimed); the second
// takes the rows from a row at or past the frontier (kTaken set), and the first stops there.
class Boundary {
 public:
  explicit Boundary(int height) noexcept : height_(height) {}

  // The first thread's next rows: [from, the returned row); `from` when none are left.
  int claim(int from, int rows) noexcept {
    std::uint32_t seen = state_.load(std::memory_order_acquire);
    for (;;) {
      if ((seen & kTaken) != 0) return std::min(static_cast<int>(seen & ~kTaken), from + rows);
      const int until = std::min(height_, from + rows);
      if (state_.compare_exchange_weak(seen, static_cast<std::uint32_t>(until),
                                       std::memory_order_acq_rel)) {
        return until;
      }
    }
  }

  int frontier() const noexcept {
    return static_cast<int>(state_.load(std::memory_order_acquire) & ~kTaken);
  }

  // The second thread takes the rows from `row` on, unless the first has claimed past it.
  bool take(int row) noexcept {
    std::uint32_t seen = state_.load(std::memory_order_acquire);
    while ((seen & kTaken) == 0 && static_cast<int>(seen) <= row) {
      if (state_.compare_exchange_weak(seen, static_cast<std::uint32_t>(row) | kTaken,
                                       std::memory_order_acq_rel)) {
        return true;
      }
    }
    return false;
  }

  bool taken() const noexcept { return (state_.load(std::memory_order_acquire) & kTaken) != 0; }

 private:
  static constexpr std::uint32_t kTaken = 1u << 31;
  const int height_;
  std::atomic<std::uint32_t> state_{0};
};

struct BalancedPart {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  const JpegSplitPlan* plan = nullptr;
  std::uint8_t* rgb = nullptr;
  std::size_t stride = 0;
  Boundary* boundary = nullptr;
  int took_from = 0;  // the second thread's first row; 0 when it took none
  bool ok = false;
  std::string reason;
};

bool read_rows(jpeg_decompress_struct* cinfo, JDIMENSION last, std::uint8_t* rows,
               std::size_t stride) {
  constexpr JDIMENSION kBatch = 16;
  JSAMPROW pointers[kBatch];
  while (cinfo->output_scanline < last) {
    const JDIMENSION count = std::min(kBatch, last - cinfo->output_scanline);
    for (JDIMENSION i = 0; i < count; ++i) {
      pointers[i] = rows + static_cast<std::size_t>(cinfo->output_scanline + i) * stride;
    }
    if (jpeg_read_scanlines(cinfo, pointers, count) == 0) return false;
  }
  return true;
}

// The caller's thread: rows from the top, a row of MCUs per claim, until the boundary.
void decode_from_top(BalancedPart* part) noexcept {
  jpeg_decompress_struct cinfo;
  ErrorManager errors;
  install_errors(&cinfo, &errors);
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&cinfo);
    set_reason(&part->reason, errors.message);
    part->ok = false;
    return;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, part->data, static_cast<unsigned long>(part->size));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const int height = part->plan->height;
  const char* failure = nullptr;
  // libjpeg reads the header for itself; it must be the one the plan was made from.
  if (static_cast<int>(cinfo.output_height) != height ||
      static_cast<int>(cinfo.output_width) != part->plan->width || cinfo.output_components != 3) {
    failure = "libjpeg read another size than the plan";
  }
  int row = 0;
  while (failure == nullptr) {
    const int until = part->boundary->claim(row, part->plan->mcu_rows);
    if (until <= row) break;
    if (!read_rows(&cinfo, static_cast<JDIMENSION>(until), part->rgb, part->stride)) {
      failure = "libjpeg returned no rows";
    }
    row = until;
  }
  // Reading to the end checks what follows the last row, as the whole-image decode does.
  if (failure == nullptr && row == height) {
    jpeg_finish_decompress(&cinfo);
  } else {
    jpeg_abort_decompress(&cinfo);
  }
  jpeg_destroy_decompress(&cinfo);
  if (failure != nullptr) set_reason(&part->reason, failure);
  part->ok = failure == nullptr;
}

// A libjpeg source reading a resume stream: its prefix, its tail, then (with libjpeg's
// end-of-file warning, which fails the part) an EOI, as jpeg_mem_src does.
//
// The tail is handed over in three pieces, because libjpeg-turbo decodes an MCU with its fast
// Huffman path only while at least 512 bytes per block of the MCU remain in the buffer it was
// given and no marker has been read, and the fast path silently takes a bad Huffman code for
// an end of block where the slow path warns. Which path the whole-image decode takes near the
// end of the scan depends on how far its bit reader had read ahead (up to 8 bytes), which a
// resumed stream does not reproduce; on corrupt data the two paths give different pixels. So
// the tail's last piece before the first marker is kSlowPathGuard bytes: the resumed decode
// takes the slow path from a little before wherever the whole decode could first take it,
// and where the whole decode's fast path would miss a bad code, the resumed one refuses the
// file (decode_image then decodes it whole).
constexpr std::size_t kSlowPathGuard = 16;

struct ResumeSource {
  jpeg_source_mgr manager;
  const std::uint8_t* pieces[4];  // piece i is [pieces[i], pieces[i + 1])
  int next_piece;
};

// The tail up to its first marker, as decode_resumed hands it to libjpeg.
struct TailScan {
  std::size_t marker = 0;  // where the first marker starts (its first 0xFF), or the size
  // The first 0xFF 0xFF... 0x00 before that marker, or null. libjpeg-turbo's slow path reads
  // it as one stuffed 0xFF, its fast path as a marker, abandoning the MCU for the slow path
  // but keeping the coefficients it had written; which MCU that happens in depends on how far
  // the bit reader had read ahead, so a resumed stream holding it cannot give the whole
  // decode's pixels.
  const std::uint8_t* fill_before_zero = nullptr;
};

// Not inlined: its loop variables would then live across decode_resumed's setjmp.
[[gnu::noinline]] TailScan scan_tail(const std::uint8_t* data, std::size_t size) noexcept {
  TailScan scan;
  std::size_t at = 0;
  while (at < size) {
    const void* found = std::memchr(data + at, 0xFF, size - at);
    if (found == nullptr) break;
    const auto marker = static_cast<std::size_t>(static_cast<const std::uint8_t*>(found) - data);
    std::size_t after = marker + 1;
    while (after < size && data[after] == 0xFF)
      ++after;
    if (after >= size || data[after] != 0x00) {
      scan.marker = marker;
      return scan;
    }
    if (after > marker + 1 && scan.fill_before_zero == nullptr) {
      scan.fill_before_zero = data + marker;
    }
    at = after + 1;
  }
  scan.marker = size;
  return scan;
}

void no_op(j_decompress_ptr) {}

boolean next_part(j_decompress_ptr cinfo) {
  static const JOCTET kEndOfImage[2] = {0xFF, 0xD9};
  auto* source = reinterpret_cast<ResumeSource*>(cinfo->src);
  while (source->next_piece < 3) {
    const int piece = source->next_piece++;
    const std::uint8_t* begin = source->pieces[piece];
    const std::uint8_t* end = source->pieces[piece + 1];
    if (begin == end) continue;
    source->manager.next_input_byte = begin;
    source->manager.bytes_in_buffer = static_cast<std::size_t>(end - begin);
    return TRUE;
  }
  cinfo->err->msg_code = JWRN_JPEG_EOF;
  (*cinfo->err->emit_message)(reinterpret_cast<j_common_ptr>(cinfo), -1);
  source->manager.next_input_byte = kEndOfImage;
  source->manager.bytes_in_buffer = 2;
  return TRUE;
}

void skip_bytes(j_decompress_ptr cinfo, long count) {
  jpeg_source_mgr* source = cinfo->src;
  while (count > 0 && static_cast<std::size_t>(count) > source->bytes_in_buffer) {
    count -= static_cast<long>(source->bytes_in_buffer);
    next_part(cinfo);
  }
  if (count > 0) {
    source->next_input_byte += count;
    source->bytes_in_buffer -= static_cast<std::size_t>(count);
  }
}

// Decodes a resume stream, skipping its first `lead` rows, into `rows` (the stream's row 0,
// `stride` bytes apart; only rows from `lead` on are written). `tail` is scan_tail's reading
// of the stream's tail, which holds no fill bytes before a stuffed zero.
bool decode_resumed(const ResumeStream& stream, const TailScan& tail, int width, int lead,
                    std::uint8_t* rows, std::size_t stride, std::string* reason) noexcept {
  jpeg_decompress_struct cinfo;
  ErrorManager errors;
  install_errors(&cinfo, &errors);
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&cinfo);
    set_reason(reason, errors.message);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  ResumeSource source{};
  source.manager.init_source = no_op;
  source.manager.fill_input_buffer = next_part;
  source.manager.skip_input_data = skip_bytes;
  source.manager.resync_to_restart = jpeg_resync_to_restart;
  source.manager.term_source = no_op;
  source.manager.next_input_byte = stream.prefix.data();
  source.manager.bytes_in_buffer = stream.prefix.size();
  const std::size_t marker = tail.marker;
  const std::size_t guard_start = marker > kSlowPathGuard ? marker - kSlowPathGuard : 0;
  source.pieces[0] = stream.tail;
  source.pieces[1] = stream.tail + guard_start;
  source.pieces[2] = stream.tail + marker;
  source.pieces[3] = stream.tail + stream.tail_size;
  cinfo.src = &source.manager;
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const char* failure = nullptr;
  if (static_cast<int>(cinfo.output_height) != stream.height ||
      static_cast<int>(cinfo.output_width) != width || cinfo.output_components != 3 || lead < 0 ||
      lead > stream.height) {
    failure = "the resumed stream has another size";
  } else if (jpeg_skip_scanlines(&cinfo, static_cast<JDIMENSION>(lead)) !=
             static_cast<JDIMENSION>(lead)) {
    failure = "libjpeg skipped fewer rows than asked";
  } else if (!read_rows(&cinfo, cinfo.output_height, rows, stride)) {
    failure = "libjpeg returned no rows";
  }
  if (failure == nullptr) {
    jpeg_finish_decompress(&cinfo);
  } else {
    jpeg_abort_decompress(&cinfo);
  }
  jpeg_destroy_decompress(&cinfo);
  if (failure != nullptr) set_reason(reason, failure);
  return failure == nullptr;
}

// What the second thread's start costs beyond its rows, in rows of MCUs: the resume stream's
// header and its placeholder and context rows.
constexpr int kTakeOverMarginMcuRows = 1;

// The second thread. It walks the Huffman codes a row of MCUs at a time (JpegRowScanner, faster
// than libjpeg's skipping: BENCHMARKS.md, "Codecs and untrusted input") until the rows the
// first thread still has to decode before it are as many as the rows after it, then decodes
// those from a resume stream. When the walk stops first, it takes no rows and the first
// thread decodes them all.
void decode_to_bottom(BalancedPart* part) noexcept {
  part->ok = false;
  const JpegSplitPlan& plan = *part->plan;
  JpegRowScanner scanner;
  if (!scanner.open(part->data, part->size, plan.header)) return;
  const int height = plan.height;
  const int margin = kTakeOverMarginMcuRows * plan.mcu_rows;
  ResumeStream stream;
  TailScan tail;
  const std::uint8_t* fill = nullptr;
  for (;;) {
    // Standing at the start of row of MCUs r, the stream resumes there and decodes from r + 1
    // (row r is the context of the first rows it keeps).
    const int from = (scanner.mcu_row() + 1) * plan.mcu_rows;
    if (from >= height) return;
    const int frontier = part->boundary->frontier();
    if (frontier >= height) return;
    if (scanner.mcu_row() >= 1 && frontier <= from && from - frontier >= height - from + margin &&
        scanner.resume_stream(&stream)) {
      // A tail holding fill bytes before a stuffed zero is not resumed (TailScan): the walk goes
      // on past them, or the first thread decodes the rest. Scanned again only once passed.
      if (fill == nullptr || stream.tail > fill) {
        tail = scan_tail(stream.tail, stream.tail_size);
        fill = tail.fill_before_zero;
      }
      if (fill == nullptr && part->boundary->take(from)) {
        part->took_from = from;
        // The stream's placeholder and context rows come first; its row `lead` is row `from`.
        const int lead = 2 * plan.mcu_rows;
        part->ok = decode_resumed(stream, tail, plan.width, lead,
                                  part->rgb + static_cast<std::size_t>(from - lead) * part->stride,
                                  part->stride, &part->reason);
        return;
      }
    }
    if (!scanner.skip_row()) return;
  }
}

// The helper thread, on another core than the caller's when it can be (pinned_thread.hpp).
void decode_bottom_part(void* part) noexcept {
  const RunningJpegDecode running;
  decode_to_bottom(static_cast<BalancedPart*>(part));
}

void decode_top_part(void* part) noexcept {
  note_split_started();
  decode_from_top(static_cast<BalancedPart*>(part));
}

}  // namespace

RunningJpegDecode::RunningJpegDecode() noexcept {
  running_decodes.fetch_add(1, std::memory_order_relaxed);
}

RunningJpegDecode::~RunningJpegDecode() {
  running_decodes.fetch_sub(1, std::memory_order_relaxed);
}

JpegSplitPlan plan_jpeg_split(const JpegHeader& header) noexcept {
  JpegSplitPlan plan;
  plan.mcu_rows = walkable_mcu_height(header);
  if (plan.mcu_rows == 0) return plan;
  plan.width = header.width;
  plan.height = header.height;
  plan.splittable = plan.height >= 4 * plan.mcu_rows;
  plan.header = header;
  return plan;
}

bool worth_splitting(int width, int height) noexcept {
  if (static_cast<long long>(width) * height < kMinSplitPixels) return false;
  return running_decodes.load(std::memory_order_relaxed) < usable_cores();
}

bool balanced_decode_jpeg_rgb(const std::uint8_t* data, std::size_t size, const JpegSplitPlan& plan,
                              std::uint8_t* rgb, std::string* reason, int* second_from) noexcept {
  if (second_from != nullptr) *second_from = 0;
  if (!plan.splittable || size == 0 || size > ULONG_MAX) {
    set_reason(reason, "not a splittable JPEG");
    return false;
  }
  Boundary boundary(plan.height);
  const std::size_t stride = static_cast<std::size_t>(plan.width) * 3;
  BalancedPart top{data, size, &plan, rgb, stride, &boundary, 0, false, {}};
  BalancedPart bottom{data, size, &plan, rgb, stride, &boundary, 0, false, {}};
  if (!run_with_pinned_helper(decode_bottom_part, &bottom, decode_top_part, &top)) {
    set_reason(reason, "cannot start a decoding thread on another core");
    return false;
  }
  if (second_from != nullptr) *second_from = bottom.took_from;
  // When the second thread took no rows, the first decoded them all and its result stands.
  const bool bottom_ok = bottom.ok || !boundary.taken();
  if (!top.ok || !bottom_ok) {
    set_reason(reason, (!top.ok ? top.reason : bottom.reason).c_str());
    return false;
  }
  return true;
}

bool decode_resume_stream_rgb(const ResumeStream& stream, int width, std::uint8_t* rgb,
                              std::string* reason) noexcept {
  const TailScan tail = scan_tail(stream.tail, stream.tail_size);
  if (tail.fill_before_zero != nullptr) {
    set_reason(reason, kFillBeforeZeroReason);
    return false;
  }
  return decode_resumed(stream, tail, width, 0, rgb, static_cast<std::size_t>(width) * 3, reason);
}

}  // namespace rvae::codec_detail

#endif  // RVAE_HAVE_JPEG_SPLIT
