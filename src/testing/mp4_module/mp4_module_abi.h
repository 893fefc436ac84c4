// The C interface between rvae::testing (which loads the MP4 module with dlopen when an
// output_type=mp4 request first needs it) and the module (which links FFmpeg). Plain C types
// only, so neither side depends on the other's C++ ABI or allocator; the version is checked on
// load so a stale module from another build is refused instead of misread.
#ifndef RVAE_TESTING_MP4_MODULE_ABI_H
#define RVAE_TESTING_MP4_MODULE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct or signature below changes. */
#define RVAE_MP4_MODULE_ABI_VERSION 1

/* What to encode: the arguments of rvae::reference::encode_mp4 and its Mp4Settings. */
typedef struct RvaeMp4Job {
  const uint8_t* rgb;
  size_t rgb_bytes;
  size_t frames;
  int width;
  int height;
  int frames_per_second;
  const char* const* encoders; /* encoder_count names, tried in order */
  size_t encoder_count;
  const char* temp_dir; /* "" for $TMPDIR, else /tmp */
  size_t max_bytes;
} RvaeMp4Job;

/* The outcome: on success failed is 0 and bytes (malloc'ed by the module, released with
   rvae_mp4_free) holds size bytes; otherwise failed is 1, error_code is an rvae::ErrorCode value
   and message says why (NUL-terminated, truncated to fit). */
typedef struct RvaeMp4Outcome {
  int failed;
  int error_code;
  char message[1024];
  uint8_t* bytes;
  size_t size;
} RvaeMp4Outcome;

typedef int (*RvaeMp4AbiVersionFn)(void);
typedef void (*RvaeMp4EncodeFn)(const RvaeMp4Job* job, RvaeMp4Outcome* outcome);
typedef void (*RvaeMp4FreeFn)(uint8_t* bytes);
/* Writes the first available encoder's name (or "") into name; returns its length. */
typedef size_t (*RvaeMp4EncoderNameFn)(const char* const* encoders, size_t encoder_count,
                                       char* name, size_t capacity);

/* The symbols the module exports, by these names. */
#define RVAE_MP4_SYMBOL_ABI_VERSION "rvae_mp4_abi_version"
#define RVAE_MP4_SYMBOL_ENCODE "rvae_mp4_encode"
#define RVAE_MP4_SYMBOL_FREE "rvae_mp4_free"
#define RVAE_MP4_SYMBOL_ENCODER_NAME "rvae_mp4_encoder_name"

#ifdef __cplusplus
}
#endif

#endif /* RVAE_TESTING_MP4_MODULE_ABI_H */
