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

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <climits>
#include <csetjmp>
#include <cstdio>
#include <thread>

// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>

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

// The first thread's share of the rows. The second thread reads the first part's Huffman data
// again, a fraction h of that part's work, so both finish together at 1 / (2 - h). h measured
// 0.26-0.66 (median 0.46) on photos at qualities 50-95, 4:2:0 and 4:4:4, running both threads
// at once (BENCHMARKS.md); at 0.65 every one of them is within a few per cent of its best.
constexpr double kFirstThreadShare = 0.65;

// Below this many pixels a thread start (~0.15 ms) would eat most of the gain.
constexpr long long kMinSplitPixels = 384LL * 384LL;

int balanced_split_row(int height, int mcu_rows) {
  const int rounded = static_cast<int>(kFirstThreadShare * height / mcu_rows + 0.5) * mcu_rows;
  return std::clamp(rounded, mcu_rows, (height - 1) / mcu_rows * mcu_rows);
}

bool layout_is_splittable(const jpeg_decompress_struct& cinfo) {
  if (cinfo.progressive_mode || cinfo.arith_code) return false;
  if (cinfo.num_components != 1 && cinfo.num_components != 3) return false;
  if (cinfo.jpeg_color_space != JCS_YCbCr && cinfo.jpeg_color_space != JCS_GRAYSCALE &&
      cinfo.jpeg_color_space != JCS_RGB) {
    return false;
  }
  const jpeg_component_info& luma = cinfo.comp_info[0];
  if (luma.h_samp_factor > 2 || luma.v_samp_factor > 2) return false;
  for (int c = 1; c < cinfo.num_components; ++c) {
    if (cinfo.comp_info[c].h_samp_factor != 1 || cinfo.comp_info[c].v_samp_factor != 1) {
      return false;
    }
  }
  return true;
}

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

struct Part {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  int first_row = 0;
  int last_row = 0;
  std::uint8_t* rgb = nullptr;
  std::size_t stride = 0;
  bool ok = false;
  std::string reason;

  void decode() noexcept {
    ok = decode_jpeg_rows(data, size, first_row, last_row, rgb, stride, &reason);
  }
};

void* decode_part(void* part) noexcept {
  const RunningJpegDecode running;
  static_cast<Part*>(part)->decode();
  return nullptr;
}

// The cores this thread may run on: what a split can use, under taskset or a cpuset too.
unsigned usable_cores() noexcept {
#if defined(__linux__)
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    return static_cast<unsigned>(CPU_COUNT(&allowed));
  }
#endif
  return std::thread::hardware_concurrency();
}

// Starts the second part on another core than the caller's. Left to itself, Linux queues a new
// thread on its parent's core, where it waits up to a time slice (measured here: 2-3 ms, half
// the decode) for the idle core to pull it over; pinned away it starts in ~0.15 ms. The pin
// lasts as long as the thread, one decode.
bool start_elsewhere(pthread_t* thread, Part* part) noexcept {
  pthread_attr_t attributes;
  if (pthread_attr_init(&attributes) != 0) return false;
  bool can_start = true;
#if defined(__linux__)
  cpu_set_t others;
  const int current = sched_getcpu();
  if (current >= 0 && sched_getaffinity(0, sizeof others, &others) == 0) {
    CPU_CLR(current, &others);
    can_start = CPU_COUNT(&others) > 0 &&
                pthread_attr_setaffinity_np(&attributes, sizeof others, &others) == 0;
  }
#endif
  const bool started = can_start && pthread_create(thread, &attributes, decode_part, part) == 0;
  pthread_attr_destroy(&attributes);
  return started;
}

}  // namespace

RunningJpegDecode::RunningJpegDecode() noexcept {
  running_decodes.fetch_add(1, std::memory_order_relaxed);
}

RunningJpegDecode::~RunningJpegDecode() {
  running_decodes.fetch_sub(1, std::memory_order_relaxed);
}

JpegSplitPlan plan_jpeg_split(const std::uint8_t* data, std::size_t size) noexcept {
  JpegSplitPlan plan;
  if (size == 0 || size > ULONG_MAX) return plan;
  jpeg_decompress_struct cinfo;
  ErrorManager errors;
  install_errors(&cinfo, &errors);
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return JpegSplitPlan{};
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  if (jpeg_read_header(&cinfo, TRUE) == JPEG_HEADER_OK && layout_is_splittable(cinfo) &&
      !jpeg_has_multiple_scans(&cinfo)) {
    plan.width = static_cast<int>(cinfo.image_width);
    plan.height = static_cast<int>(cinfo.image_height);
    plan.mcu_rows = cinfo.max_v_samp_factor * DCTSIZE;
    // Two full MCU rows at least on each side, so neither part is only edge rows.
    if (plan.height >= 4 * plan.mcu_rows) {
      plan.splittable = true;
      plan.split_row = balanced_split_row(plan.height, plan.mcu_rows);
    }
  }
  jpeg_destroy_decompress(&cinfo);
  return plan;
}

bool worth_splitting(int width, int height) noexcept {
  if (static_cast<long long>(width) * height < kMinSplitPixels) return false;
  return running_decodes.load(std::memory_order_relaxed) < usable_cores();
}

bool decode_jpeg_rows(const std::uint8_t* data, std::size_t size, int first_row, int last_row,
                      std::uint8_t* rows, std::size_t stride, std::string* reason) noexcept {
  if (size == 0 || size > ULONG_MAX || first_row < 0 || last_row <= first_row) {
    set_reason(reason, "no rows to decode");
    return false;
  }
  jpeg_decompress_struct cinfo;
  ErrorManager errors;
  install_errors(&cinfo, &errors);
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&cinfo);
    set_reason(reason, errors.message);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const auto first = static_cast<JDIMENSION>(first_row);
  const auto last = static_cast<JDIMENSION>(last_row);
  const char* failure = nullptr;
  if (last > cinfo.output_height || cinfo.output_components != 3) {
    failure = "rows outside the image";
  } else if (first > 0 && jpeg_skip_scanlines(&cinfo, first) != first) {
    failure = "libjpeg skipped fewer rows than asked";
  }
  constexpr JDIMENSION kBatch = 16;
  JSAMPROW pointers[kBatch];
  while (failure == nullptr && cinfo.output_scanline < last) {
    const JDIMENSION count = std::min(kBatch, last - cinfo.output_scanline);
    for (JDIMENSION i = 0; i < count; ++i) {
      pointers[i] = rows + static_cast<std::size_t>(cinfo.output_scanline + i) * stride;
    }
    if (jpeg_read_scanlines(&cinfo, pointers, count) == 0) failure = "libjpeg returned no rows";
  }
  // Reading to the end checks what follows the last row, as the whole-image decode does.
  if (failure == nullptr && last == cinfo.output_height) {
    jpeg_finish_decompress(&cinfo);
  } else {
    jpeg_abort_decompress(&cinfo);
  }
  jpeg_destroy_decompress(&cinfo);
  if (failure != nullptr) set_reason(reason, failure);
  return failure == nullptr;
}

bool split_decode_jpeg_rgb(const std::uint8_t* data, std::size_t size, const JpegSplitPlan& plan,
                           std::uint8_t* rgb, std::string* reason) noexcept {
  if (!plan.splittable || plan.split_row <= 0 || plan.split_row >= plan.height) {
    set_reason(reason, "not a splittable JPEG");
    return false;
  }
  const std::size_t stride = static_cast<std::size_t>(plan.width) * 3;
  Part first{data, size, 0, plan.split_row, rgb, stride, false, {}};
  Part second{data, size, plan.split_row, plan.height, rgb, stride, false, {}};
  pthread_t helper;
  if (!start_elsewhere(&helper, &second)) {
    set_reason(reason, "cannot start a decoding thread on another core");
    return false;
  }
  note_split_started();
  first.decode();
  pthread_join(helper, nullptr);
  if (!first.ok || !second.ok) {
    set_reason(reason, (!first.ok ? first.reason : second.reason).c_str());
    return false;
  }
  return true;
}

}  // namespace rvae::codec_detail

#endif  // RVAE_HAVE_JPEG_SPLIT
