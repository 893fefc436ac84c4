/* The C API as a C program uses it: decode and encode against the endpoint named by
 * RVAE_TEST_ENDPOINT, plus the full result, a batch, a video streamed frame by frame through a
 * callback and into a buffer sized by rvae_decode_reply_layout, and an argument error. Built as C99
 * with -Wall -Wextra -Werror -pedantic (and under AddressSanitizer with leak checks in rvae's own
 * suite), so it also proves rvae.h is plain C and that a run frees everything it is given.
 * Prints "c api ok" on success. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvae/rvae.h>

static int failed(const char* what, int status, rvae_error* err) {
  fprintf(stderr, "%s: %s (%d): %s\n", what, rvae_status_name(status), status,
          rvae_error_message(err));
  rvae_error_free(err);
  return 1;
}

/* What the frame callback saw: frames in order, each complete. */
typedef struct {
  int64_t next_index;
  int bad;
} frames_seen;

static int on_frame(const rvae_frame* frame, void* user_data) {
  frames_seen* seen = (frames_seen*)user_data;
  if (frame->index != seen->next_index || frame->width != 32 || frame->height != 32 ||
      frame->channels != 3 || frame->size != 32 * 32 * 3 || frame->pixels == NULL) {
    seen->bad = 1;
    return 1; /* stops the decode */
  }
  ++seen->next_index;
  return 0;
}

/* A hunyuan-video decode of [1,16,2,4,4] latents (5 frames of 32x32): frames through a callback,
 * then the same reply into a buffer of the size rvae_decode_reply_layout gives. */
static int stream_video(rvae_client* client, const char* base) {
  static float values[1 * 16 * 2 * 4 * 4];
  const int64_t shape[5] = {1, 16, 2, 4, 4};
  char url[256];
  rvae_tensor_view latents;
  rvae_decode_params params;
  rvae_reply_layout layout;
  rvae_decode_result* result = NULL;
  rvae_error* err = NULL;
  frames_seen seen = {0, 0};
  uint8_t* buffer;
  size_t i;
  int status;

  snprintf(url, sizeof url, "%s/hunyuan-video/decode/", base);
  for (i = 0; i < sizeof values / sizeof values[0]; ++i)
    values[i] = (float)(i % 9) * 0.05f;
  latents.data = values;
  latents.shape = shape;
  latents.ndim = 5;
  latents.dtype = RVAE_DTYPE_FLOAT32;

  rvae_decode_params_init(&params, "hunyuan-video");
  params.output_type = RVAE_OUTPUT_UINT8;
  params.frame_callback = on_frame;
  params.stream_user_data = &seen;
  status = rvae_decode_full(client, url, &latents, &params, &result, &err);
  if (status != RVAE_OK) return failed("rvae_decode_full (frame_callback)", status, err);
  if (seen.bad || seen.next_index != 5 || result->streamed != 1 || result->frames_delivered != 5 ||
      result->image_count != 0) {
    fprintf(stderr, "frame_callback: %d frames, streamed %d\n", (int)seen.next_index,
            result->streamed);
    return 1;
  }
  rvae_decode_result_free(result);

  params.frame_callback = NULL;
  layout.struct_size = sizeof layout;
  status = rvae_decode_reply_layout(client, url, &latents, &params, &layout, &err);
  if (status != RVAE_OK) return failed("rvae_decode_reply_layout", status, err);
  if (layout.ndim != 4 || layout.frames != 5 || layout.bytes != 5 * 32 * 32 * 3) {
    fprintf(stderr, "rvae_decode_reply_layout: unexpected layout\n");
    return 1;
  }
  buffer = (uint8_t*)malloc((size_t)layout.bytes);
  if (buffer == NULL) return 1;
  params.into = buffer;
  params.into_size = (size_t)layout.bytes;
  status = rvae_decode_full(client, url, &latents, &params, &result, &err);
  free(buffer);
  if (status != RVAE_OK) return failed("rvae_decode_full (into)", status, err);
  if (result->bytes_delivered != layout.bytes) {
    fprintf(stderr, "into: %u bytes delivered\n", (unsigned)result->bytes_delivered);
    return 1;
  }
  rvae_decode_result_free(result);
  return 0;
}

int main(void) {
  const char* base = getenv("RVAE_TEST_ENDPOINT");
  char decode_url[256];
  char encode_url[256];
  float values[1 * 4 * 8 * 8];
  const int64_t shape[4] = {1, 4, 8, 8};
  rvae_tensor_view latents;
  rvae_client_params client_params;
  rvae_decode_params decode_params;
  rvae_encode_params encode_params;
  rvae_client* client;
  rvae_error* err = NULL;
  rvae_image image;
  rvae_tensor encoded;
  rvae_decode_result* full = NULL;
  rvae_decode_result* batch[2];
  rvae_tensor_view batch_latents[2];
  size_t i;
  int status;

  /* The installed rvae/version.h names the library it was installed with. */
  if (strcmp(rvae_version(), RVAE_VERSION_STRING) != 0) {
    fprintf(stderr, "rvae_version() is %s, RVAE_VERSION_STRING %s\n", rvae_version(),
            RVAE_VERSION_STRING);
    return 1;
  }
  if (base == NULL) {
    fprintf(stderr, "RVAE_TEST_ENDPOINT is not set (run through with_endpoint)\n");
    return 2;
  }
  snprintf(decode_url, sizeof decode_url, "%s/sd15/decode/", base);
  snprintf(encode_url, sizeof encode_url, "%s/sd15/encode/", base);
  for (i = 0; i < sizeof values / sizeof values[0]; ++i)
    values[i] = (float)(i % 5) * 0.1f;
  latents.data = values;
  latents.shape = shape;
  latents.ndim = 4;
  latents.dtype = RVAE_DTYPE_FLOAT32;

  rvae_client_params_init(&client_params);
  client_params.token_from_environment = 0;
  client = rvae_client_new(&client_params, &err);
  if (client == NULL) return failed("rvae_client_new", rvae_error_code(err), err);

  /* One image, with sd15's factors. */
  rvae_decode_params_init(&decode_params, "sd15");
  status = rvae_decode(client, decode_url, &latents, &decode_params, &image, &err);
  if (status != RVAE_OK) return failed("rvae_decode", status, err);
  if (image.width != 64 || image.height != 64 || image.channels != 3) {
    fprintf(stderr, "rvae_decode: got %ux%ux%u\n", (unsigned)image.width, (unsigned)image.height,
            (unsigned)image.channels);
    return 1;
  }

  /* The decoded image back to latents. */
  rvae_encode_params_init(&encode_params, "sd15");
  status = rvae_encode(client, encode_url, &image, &encode_params, &encoded, &err);
  rvae_image_free(&image);
  if (status != RVAE_OK) return failed("rvae_encode", status, err);
  if (encoded.ndim != 4 || encoded.shape[1] != 4 || encoded.shape[2] != 8) {
    fprintf(stderr, "rvae_encode: unexpected latents shape\n");
    return 1;
  }
  rvae_tensor_free(&encoded);

  /* The raw decoder output as a float tensor. */
  decode_params.output_type = RVAE_OUTPUT_FLOAT_TENSOR;
  status = rvae_decode_full(client, decode_url, &latents, &decode_params, &full, &err);
  if (status != RVAE_OK) return failed("rvae_decode_full", status, err);
  if (full->tensor.ndim != 4 || full->tensor.shape[1] != 3 || full->tensor.shape[3] != 64) {
    fprintf(stderr, "rvae_decode_full: unexpected tensor\n");
    return 1;
  }
  rvae_decode_result_free(full);

  /* A batch of two, results in order. */
  batch_latents[0] = latents;
  batch_latents[1] = latents;
  decode_params.output_type = RVAE_OUTPUT_UINT8;
  status =
      rvae_decode_batch(client, decode_url, batch_latents, 2, &decode_params, batch, NULL, &err);
  if (status != RVAE_OK) return failed("rvae_decode_batch", status, err);
  for (i = 0; i < 2; ++i) {
    if (batch[i]->image_count != 1 || batch[i]->images[0].width != 64) {
      fprintf(stderr, "rvae_decode_batch: unexpected result %u\n", (unsigned)i);
      return 1;
    }
    rvae_decode_result_free(batch[i]);
  }

  if (stream_video(client, base) != 0) return 1;

  /* Bad input is an error code and a message, never a crash. */
  latents.data = NULL;
  status = rvae_decode(client, decode_url, &latents, NULL, &image, &err);
  if (status != RVAE_ERR_INVALID_ARGUMENT || strstr(rvae_error_message(err), "NULL") == NULL) {
    fprintf(stderr, "NULL latents gave %d: %s\n", status, rvae_error_message(err));
    return 1;
  }
  rvae_error_free(err);

  rvae_client_free(client);
  printf("c api ok (rvae %s)\n", rvae_version());
  return 0;
}
