// The MP4 module's exported C entry points (mp4_module_abi.h): C structs in, C structs out, over
// the FFmpeg implementation. Nothing else is exported (the module is built with hidden
// visibility).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "testing/mp4_module/ffmpeg_mp4.hpp"
#include "testing/mp4_module/mp4_module_abi.h"

#define RVAE_MP4_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

void set_message(RvaeMp4Outcome* outcome, const std::string& text) {
  const std::size_t length = std::min(text.size(), sizeof(outcome->message) - 1);
  std::memcpy(outcome->message, text.data(), length);
  outcome->message[length] = '\0';
}

std::vector<std::string> names_of(const char* const* encoders, std::size_t count) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < count; ++i)
    names.emplace_back(encoders[i] != nullptr ? encoders[i] : "");
  return names;
}

}  // namespace

RVAE_MP4_EXPORT int rvae_mp4_abi_version(void) {
  return RVAE_MP4_MODULE_ABI_VERSION;
}

RVAE_MP4_EXPORT void rvae_mp4_encode(const RvaeMp4Job* job, RvaeMp4Outcome* outcome) {
  outcome->failed = 0;
  outcome->error_code = 0;
  outcome->message[0] = '\0';
  outcome->bytes = nullptr;
  outcome->size = 0;
  // No C++ exception may cross the C boundary.
  try {
    rvae::reference::Mp4Settings settings;
    settings.frames_per_second = job->frames_per_second;
    settings.encoders = names_of(job->encoders, job->encoder_count);
    settings.temp_dir = job->temp_dir != nullptr ? job->temp_dir : "";
    settings.max_bytes = job->max_bytes;
    rvae::Result<rvae::Bytes> mp4 = rvae::reference::ffmpeg::encode_mp4(
        job->rgb, job->rgb_bytes, job->frames, job->width, job->height, settings);
    if (!mp4) {
      outcome->failed = 1;
      outcome->error_code = static_cast<int>(mp4.error().code());
      set_message(outcome, mp4.error().message());
      return;
    }
    outcome->bytes = static_cast<std::uint8_t*>(std::malloc(mp4->size() > 0 ? mp4->size() : 1));
    if (outcome->bytes == nullptr) {
      outcome->failed = 1;
      outcome->error_code = static_cast<int>(rvae::ErrorCode::kResourceExhausted);
      set_message(outcome, "MP4 encoding failed: out of memory for the file's bytes.");
      return;
    }
    std::memcpy(outcome->bytes, mp4->data(), mp4->size());
    outcome->size = mp4->size();
  } catch (const std::exception& error) {
    outcome->failed = 1;
    outcome->error_code = static_cast<int>(rvae::ErrorCode::kInternal);
    set_message(outcome, std::string("MP4 encoding failed: ") + error.what());
  }
}

RVAE_MP4_EXPORT void rvae_mp4_free(std::uint8_t* bytes) {
  std::free(bytes);
}

RVAE_MP4_EXPORT std::size_t rvae_mp4_encoder_name(const char* const* encoders,
                                                  std::size_t encoder_count, char* name,
                                                  std::size_t capacity) {
  std::string found;
  try {
    found = rvae::reference::ffmpeg::mp4_encoder_name(names_of(encoders, encoder_count));
  } catch (const std::exception&) {
    found.clear();
  }
  if (capacity == 0) return found.size();
  const std::size_t length = std::min(found.size(), capacity - 1);
  std::memcpy(name, found.data(), length);
  name[length] = '\0';
  return found.size();
}
