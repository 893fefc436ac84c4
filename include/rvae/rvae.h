/* rvae's C API: remote VAE decode and encode from C and from any language with a C FFI
 * (Python ctypes/cffi, Rust, Go, C#). C99; a thin layer over the C++ client (rvae/client.hpp).
 *
 * Conventions, in the style of stable-diffusion.cpp's API:
 * - Handles are opaque; each *_new has a *_free; every *_free accepts NULL.
 * - Functions that can fail return 0 (RVAE_OK) on success and an rvae_status code otherwise.
 *   When `err` is not NULL, a failure stores a new rvae_error in *err (free it with
 *   rvae_error_free); a success stores NULL. No C++ exception ever leaves this API.
 * - Params structs begin with `struct_size`, set by their *_params_init: a program built
 *   against an older rvae.h keeps working with a newer library (fields it does not know keep
 *   their defaults), and a struct from a newer header is refused with RVAE_ERR_INVALID_ARGUMENT.
 *   Always call *_params_init before setting fields. *_params_init is a macro passing
 *   sizeof(*p) to *_params_init_sized, which writes no byte past that size; FFI callers call
 *   *_params_init_sized with their struct's size. (The plain exported *_params_init functions
 *   remain for programs built against an rvae.h before the sized ones: they fill the first
 *   version of the struct only.) rvae_preset, which the library fills, is
 *   accepted at any size from its first version on: the fields that fit are filled.
 * - Results (rvae_image, rvae_tensor, rvae_decode_result) are allocated by the library and freed
 *   with their own *_free function; inputs are borrowed for the duration of the call only.
 * - Thread-safety: an rvae_client may be used by any number of threads at once; cancel tokens
 *   may be cancelled from any thread. Callbacks run on library threads; the log and progress
 *   callbacks must be quick, the stream callbacks of a decode may take their time (see
 *   rvae_frame_fn). No callback may call the same client's blocking functions.
 *
 * ABI: this header's types and functions keep their layout and meaning across 0.x releases
 * with the same SONAME (librvae.so.0); new fields go at the end of params structs (see
 * struct_size), new functions are only added. */
#ifndef RVAE_RVAE_H
#define RVAE_RVAE_H

#include <stddef.h>
#include <stdint.h>

#include "rvae/export.h"
#include "rvae/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes: 0 on success, else abseil's canonical vocabulary (as rvae::ErrorCode). */
typedef enum {
  RVAE_OK = 0,
  RVAE_ERR_INVALID_ARGUMENT = 1,   /* the caller's input is wrong; retrying won't help */
  RVAE_ERR_DEADLINE_EXCEEDED = 2,  /* a timeout elapsed */
  RVAE_ERR_UNAVAILABLE = 3,        /* service or network down for now; a retry may help */
  RVAE_ERR_RESOURCE_EXHAUSTED = 4, /* rate limit, size cap, or out of memory */
  RVAE_ERR_UNAUTHENTICATED = 5,    /* missing or bad token (HTTP 401) */
  RVAE_ERR_PERMISSION_DENIED = 6,  /* token lacks access (HTTP 403) */
  RVAE_ERR_NOT_FOUND = 7,          /* endpoint, model or file not found */
  RVAE_ERR_DATA_LOSS = 8,          /* a reply was cut short or does not match what it claims */
  RVAE_ERR_INTERNAL = 9,           /* the server or this library broke an invariant */
  RVAE_ERR_CANCELLED = 10          /* cancelled through an rvae_cancel_token */
} rvae_status;

/* ---- Opaque handles. */
typedef struct rvae_client rvae_client;             /* thread-safe like rvae::Client */
typedef struct rvae_error rvae_error;               /* message, code, HTTP status */
typedef struct rvae_cancel_token rvae_cancel_token; /* cancels the calls it is given to */

/* ---- Tensors and images. */
typedef enum {
  RVAE_DTYPE_FLOAT32 = 0,
  RVAE_DTYPE_FLOAT16 = 1, /* IEEE half, as uint16_t bits */
  RVAE_DTYPE_BFLOAT16 = 2,
  RVAE_DTYPE_UINT8 = 3
} rvae_dtype;

#define RVAE_MAX_DIMS 5

/* A borrowed tensor: `ndim` dims (1..5) at `shape`, little-endian row-major elements at `data`
 * (product(shape) * element size bytes). Like rvae::TensorView. */
typedef struct {
  const void* data;
  const int64_t* shape;
  int ndim;
  rvae_dtype dtype;
} rvae_tensor_view;

/* 8-bit pixels, rows top to bottom, channels interleaved (3 = RGB, 4 = RGBA). As an input it is
 * borrowed; as an output its `data` is the library's: free it with rvae_image_free. */
typedef struct {
  uint32_t width, height, channels;
  uint8_t* data;
} rvae_image;

/* An owned tensor returned by the library; free with rvae_tensor_free. */
typedef struct {
  void* data;
  int64_t shape[RVAE_MAX_DIMS];
  int ndim;
  rvae_dtype dtype;
} rvae_tensor;

/* ---- Errors. */
/* The whole error in one line: "Code: message" plus the HTTP status and the server's message
 * when there were any. Never contains tokens. "" for NULL. Valid until rvae_error_free. */
RVAE_API const char* rvae_error_message(const rvae_error* e);
/* An rvae_status; RVAE_ERR_INVALID_ARGUMENT for NULL. */
RVAE_API int rvae_error_code(const rvae_error* e);
/* HTTP status of the reply that caused the error; 0 when no reply was involved (or NULL). */
RVAE_API int rvae_error_http_status(const rvae_error* e);
/* The server's own message ("" when none). */
RVAE_API const char* rvae_error_server_message(const rvae_error* e);
/* 1 when sending the same request again may succeed (timeouts, 429, 503...), else 0. */
RVAE_API int rvae_error_retryable(const rvae_error* e);
RVAE_API void rvae_error_free(rvae_error* e);
/* Stable name of a status, e.g. "InvalidArgument"; "OK" for 0, "Unknown" otherwise. */
RVAE_API const char* rvae_status_name(int status);

/* The linked library's version, e.g. "0.1.0"; RVAE_VERSION_STRING (rvae/version.h) is the
 * header's. */
RVAE_API const char* rvae_version(void);

/* ---- Cancellation: a token given to calls through their params. rvae_cancel_token_cancel may
 * be called from any thread (e.g. from an sd_cancel_generation-style hook); the calls holding the
 * token then end promptly with RVAE_ERR_CANCELLED. A cancelled token stays cancelled. Calls keep
 * their own reference to the token's flag, so the handle may be freed at any time. NULL from
 * rvae_cancel_token_new when out of memory. */
RVAE_API rvae_cancel_token* rvae_cancel_token_new(void);
RVAE_API void rvae_cancel_token_cancel(rvae_cancel_token* t);
/* 1 once cancelled, else 0 (also for NULL). */
RVAE_API int rvae_cancel_token_is_cancelled(const rvae_cancel_token* t);
RVAE_API void rvae_cancel_token_free(rvae_cancel_token* t);

/* ---- Progress: bytes of the current call; for rvae_decode_batch also items done. */
typedef struct {
  uint64_t bytes_sent;
  uint64_t bytes_to_send; /* 0 while unknown */
  uint64_t bytes_received;
  uint64_t bytes_to_receive; /* 0 while unknown; batches: 0 */
  size_t items_done;         /* batches: decodes finished (succeeded or failed); calls: 0 */
  size_t items_failed;
  size_t items_total; /* batches: the batch size; calls: 1 */
} rvae_progress;
/* Called from a library thread (single calls) or the batch's calling thread (batches). Must be
 * quick and must not call back into the same client synchronously. */
typedef void (*rvae_progress_fn)(const rvae_progress* progress, void* user_data);

/* ---- The client. */
typedef enum { RVAE_LOG_DEBUG = 0, RVAE_LOG_INFO = 1, RVAE_LOG_WARNING = 2 } rvae_log_level;
/* Diagnostics (the library never prints); may run on the network thread; no tokens in them. */
typedef void (*rvae_log_fn)(rvae_log_level level, const char* message, void* user_data);

typedef struct {
  size_t struct_size;         /* set by rvae_client_params_init */
  int64_t connect_timeout_ms; /* per attempt; default 10000 */
  int64_t attempt_timeout_ms; /* one attempt, upload to last reply byte; default 300000 */
  int64_t deadline_ms;        /* a whole call, retries included; default 900000 */
  int max_attempts;           /* attempts in all, 1 disables retries; default 5 */
  int64_t scale_up_timeout_s; /* > 0 sends X-Scale-Up-Timeout (scaled-to-zero endpoints) */
  size_t max_in_flight;       /* requests on the wire at once; default 64 */
  const char* token;          /* bearer token; NULL or "" looks it up (see next field) */
  int token_from_environment; /* 1 (default): HF_TOKEN, $HF_TOKEN_PATH, $HF_HOME/token, ... */
  const char* user_agent;     /* NULL: "rvae/<version>" */
  const char* ca_file;        /* CA bundle for TLS; NULL: the system's. Verification stays on */
  rvae_log_fn log;            /* optional */
  void* log_user_data;
  /* Threads one image reply may decode on: 2 (default) lets a large JPEG use a second,
   * short-lived thread when a core is free; 1 keeps decoding on the thread that gets the
   * result (for programs that pin their threads). Added after the first rvae.h. */
  int decode_threads;
  /* 1: a token may go in clear over http to a host other than this machine (by default such a
   * call fails before sending). A token found in Hugging Face's environment goes only to Hugging
   * Face over https whatever this says. Added after the tiling fields of the params below. */
  int allow_token_over_http;
} rvae_client_params;

RVAE_API void rvae_client_params_init_sized(rvae_client_params* p, size_t size);
RVAE_API void rvae_client_params_init(rvae_client_params* p);
#define rvae_client_params_init(p) rvae_client_params_init_sized((p), sizeof(*(p)))
/* p may be NULL (defaults). The strings are copied. NULL on failure (with *err set). */
RVAE_API rvae_client* rvae_client_new(const rvae_client_params* p, rvae_error** err);
/* Cancels calls still running on other threads and waits for them. */
RVAE_API void rvae_client_free(rvae_client* c);

/* ---- Model presets: built-in endpoints and latent factors (sd15, sdxl, flux, hunyuan-video;
 * wan2.1 and qwen-image, which have no public endpoint). */

/* How a model's latents relate to its VAE's raw latents (PROTOCOL.md §9). */
typedef enum {
  RVAE_NORMALIZATION_SCALAR = 0,     /* raw = z / scaling_factor + shift_factor */
  RVAE_NORMALIZATION_PER_CHANNEL = 1 /* raw[c] = z[c] * latents_std[c] / scaling_factor
                                      *          + latents_mean[c] */
} rvae_normalization;

typedef struct {
  size_t struct_size; /* set by the caller: sizeof(rvae_preset); only fields that fit are filled */
  const char* name;   /* strings are static: valid for the life of the process */
  const char* model_id;
  const char* decode_endpoint; /* "" when the model has none */
  const char* encode_endpoint;
  int latent_channels;
  double scaling_factor;
  int has_shift_factor;
  double shift_factor;
  rvae_dtype dtype; /* the dtype latents usually have for this model */
  int spatial_compression;
  int temporal_compression; /* 4 for video models, 1 for image models */
  int packed_latents;       /* 1 when the pipeline uses Flux-packed latents */
  /* Added after the first rvae.h: the endpoint's cap, the largest image side in pixels it
   * accepts; larger decodes and encodes are tiled (see rvae_tile_mode). */
  int max_image_side;
  /* Added with the per-channel models: the normalisation's form. For PER_CHANNEL,
   * latents_mean/latents_std point at latent_channels values each (static: valid for the life
   * of the process), scaling_factor is 1 unless the model says otherwise and has_shift_factor is
   * 0; for SCALAR both pointers are NULL. */
  rvae_normalization normalization;
  const double* latents_mean;
  const double* latents_std;
} rvae_preset;

/* Fills *out for a built-in model; RVAE_ERR_NOT_FOUND for an unknown name. A per-channel model
 * into an rvae_preset too old to hold `latents_std` fails with RVAE_ERR_INVALID_ARGUMENT and
 * writes nothing: its scaling_factor alone would be wrong. */
RVAE_API int rvae_preset_get(const char* model, rvae_preset* out, rvae_error** err);
/* The model's default decode / encode endpoint URL; NULL for an unknown model or none. */
RVAE_API const char* rvae_preset_decode_endpoint(const char* model);
RVAE_API const char* rvae_preset_encode_endpoint(const char* model);

/* ---- Tiling: a decode whose image, or an encode whose input, is larger than the endpoint's cap
 * (2048 pixels a side on the public service) is split into overlapping tiles, sent at once and
 * joined without seams (as rvae::TilingOptions). The tiling fields of the decode and encode
 * params were added after the first rvae.h; in each, 0 means the default. */
typedef enum {
  RVAE_TILE_AUTO = 0, /* tile exactly when the image exceeds max_image_side (default) */
  RVAE_TILE_OFF = 1,  /* never: one request, which the service refuses above its cap */
  RVAE_TILE_ON = 2    /* always, with tiles of at most tile_size pixels a side */
} rvae_tile_mode;

/* tile_overlap: abutting tiles, no blending. tile_colour_reference: no reference request. */
#define RVAE_TILE_NONE (-1)

/* ---- Decode. */
typedef enum {
  RVAE_OUTPUT_IMAGE = 0,        /* one JPEG/PNG from the server, decoded to pixels */
  RVAE_OUTPUT_UINT8 = 1,        /* raw RGB frames (one per batch item or video frame) */
  RVAE_OUTPUT_FLOAT_TENSOR = 2, /* the decoder output in [-1, 1] */
  RVAE_OUTPUT_MP4 = 3           /* an MP4 file (video models) */
} rvae_output_type;

typedef enum { RVAE_IMAGE_JPEG = 0, RVAE_IMAGE_PNG = 1 } rvae_image_format;

/* The wire protocol of an endpoint. AUTO: a URL whose path ends in /v2/models/NAME (or
 * .../versions/N) speaks the Open Inference Protocol (Triton, KServe, OpenVINO Model Server,
 * Seldon), any other Hugging Face's. */
typedef enum {
  RVAE_PROTOCOL_AUTO = 0,
  RVAE_PROTOCOL_HUGGING_FACE = 1,
  RVAE_PROTOCOL_OPEN_INFERENCE = 2
} rvae_protocol;

/* ---- Streamed decode replies: a reply consumed as it arrives instead of held whole (as
 * rvae::ReplyStream, rvae/reply_stream.hpp). A video's frames are handed out one by one as each
 * is complete, a tensor's bytes in order, or the reply is received straight into memory the
 * caller owns (a torch tensor's storage, a pinned buffer, a mapped file). The transfer pauses
 * while a callback lags, so memory stays bounded whatever the reply's length. */

/* What a decode reply will hold: rvae_decode_reply_layout tells it before anything is sent, and
 * the layout callback as the reply's header declared it (checked against the request). The
 * library fills it: set struct_size to sizeof(rvae_reply_layout) first; a larger struct from a
 * newer rvae.h gets the fields this library knows. */
typedef struct {
  size_t struct_size;
  rvae_output_type type;
  /* The tensor's dtype: UINT8 for RVAE_OUTPUT_UINT8; for RVAE_OUTPUT_FLOAT_TENSOR the model's
   * output dtype over the Open Inference Protocol. Over the Hugging Face protocol a float reply
   * comes in the server VAE's own dtype, which is only known from the reply: has_dtype is 0
   * before sending (and `bytes` is the float32 size, the most any float dtype needs), 1 in the
   * layout callback and the result. has_dtype is 0 for IMAGE and MP4. */
  int has_dtype;
  rvae_dtype dtype;
  /* UINT8: [N,H,W,3], one image per batch item or video frame (N = batch x frames).
   * FLOAT_TENSOR: [B,3,H,W] or [B,3,F,H,W]. ndim 0 for IMAGE and MP4 (their size is only known
   * from the reply). */
  int ndim;
  int64_t shape[RVAE_MAX_DIMS];
  uint64_t bytes;       /* the tensor's bytes (an upper bound while has_dtype is 0); 0 for
                         * IMAGE and MP4 */
  int64_t frames;       /* UINT8: N; 0 otherwise */
  uint64_t frame_bytes; /* UINT8: the bytes of one image, H x W x 3; 0 otherwise */
} rvae_reply_layout;

/* One complete image of a streamed UINT8 reply, borrowed for the duration of the callback. */
typedef struct {
  int64_t index;               /* position in the reply: batch item x frames + frame */
  int width, height, channels; /* channels: 3 (RGB) */
  const uint8_t* pixels;       /* rows top to bottom, tightly packed, channels interleaved */
  size_t size;                 /* width x height x channels bytes */
} rvae_frame;

/* The stream callbacks of rvae_decode_params. Each returns 0 to go on; any other value stops the
 * decode: no callback runs after it, and the call fails with RVAE_ERR_CANCELLED and a message
 * that names the callback and its value (and says which frames or bytes were handed out).
 *
 * Thread rules (as the completion callbacks of rvae::Client, rvae/pending.hpp): they run on a
 * library worker thread, never the calling thread, one at a time and in order (the layout first,
 * then frames or chunks by position); all of them have returned when the call returns. Unlike
 * the progress callback they may take their time: the transfer pauses past
 * stream_max_buffered_bytes and resumes when they catch up, and other calls go on meanwhile. They
 * must not call the same client's blocking functions (rvae_decode, rvae_decode_full,
 * rvae_decode_batch, rvae_decode_reply_layout, rvae_encode), nor block waiting for another
 * call's callbacks: those could wait for the very thread that runs the callback (the worker
 * threads are few). Cancelling the call's cancel token from one of them is allowed
 * and stops further deliveries (the call then fails with RVAE_ERR_CANCELLED). */

/* UINT8 replies: each image as soon as all of its bytes are in. */
typedef int (*rvae_frame_fn)(const rvae_frame* frame, void* user_data);
/* UINT8, FLOAT_TENSOR and MP4 replies: the body's bytes in order, in chunks of any size, borrowed
 * for the duration of the callback; `offset` counts from the tensor's first byte (the MP4
 * file's). */
typedef int (*rvae_chunk_fn)(uint64_t offset, const uint8_t* data, size_t size, void* user_data);
/* Once, before the first frame or chunk: the reply's layout as its header declared it, checked
 * against the request (its dtype is known now, also over the Hugging Face protocol). Borrowed for
 * the duration of the callback. */
typedef int (*rvae_layout_fn)(const rvae_reply_layout* layout, void* user_data);

typedef struct {
  size_t struct_size;             /* set by rvae_decode_params_init */
  const char* model;              /* preset name or NULL; must outlive the call */
  rvae_output_type output_type;   /* default RVAE_OUTPUT_IMAGE */
  rvae_image_format image_format; /* of RVAE_OUTPUT_IMAGE replies; default JPEG */
  int has_scaling_factor;         /* the server computes latents / scaling + shift */
  double scaling_factor;
  int has_shift_factor;
  double shift_factor;
  int height, width;         /* output size, 0 = unset; needed for packed Flux latents */
  int temporal_compression;  /* video latents: T frames give 4(T-1)+1; default 4 */
  int64_t deadline_ms;       /* 0: the client's deadline */
  rvae_cancel_token* cancel; /* optional; borrowed */
  rvae_progress_fn progress; /* optional */
  void* progress_user_data;
  size_t batch_max_in_flight; /* rvae_decode_batch: decodes on the wire at once; default 8 */
  /* Tiling (added after the first rvae.h; 0 = default in each): */
  rvae_tile_mode tile_mode; /* default RVAE_TILE_AUTO */
  int tile_size;            /* largest tile side in pixels, a multiple of 8 (16 for packed Flux
                             * latents), at most max_image_side; 0: max_image_side */
  int tile_overlap;         /* overlap of neighbouring tiles in latent pixels (8 image pixels each),
                             * less than half a tile; 0: 16; RVAE_TILE_NONE: abutting tiles */
  int max_image_side;       /* the endpoint's cap in pixels; 0: the preset's when `model` names one,
                             * else 2048 */
  int tile_colour_reference; /* 0 or 1: one extra request, the whole latent downsampled, that
                              * evens out the tiles' colours; RVAE_TILE_NONE: not sent */
  size_t tile_max_in_flight; /* requests of one tiled call on the wire at once; 0: 16 */
  /* The endpoint's protocol (added after the tiling fields): default RVAE_PROTOCOL_AUTO. Over
   * the Open Inference Protocol the latents are de-normalised here (`model`'s factors or
   * statistics, or the scaling fields) and sent raw; MP4 output is refused. */
  rvae_protocol protocol;
  const char* input_name;  /* Open Inference: the model's input and output tensors; NULL: its */
  const char* output_name; /* only ones (from its metadata) */
  /* Streamed replies (added after output_name; NULL or 0 = default in each). Set at most one of
   * frame_callback, chunk_callback and `into`; with none set the reply is held whole in the
   * result as before. A streamed decode goes through rvae_decode_full only (its result then holds
   * no images, tensor or bytes, but what was delivered), and applies to UINT8, FLOAT_TENSOR and
   * (the chunk callback only) MP4 output. A tiled decode hands out its joined output in order,
   * frame by frame as temporal chunks are blended (those take the frame callback only), or once
   * its tiles are joined. The reply's header (shape, dtype, length) is checked against
   * the request before anything is handed out. A reply that ends early or runs long fails the
   * call with RVAE_ERR_DATA_LOSS; what was handed out stays so, and the message says which frames
   * (or how many bytes). Retries: a transient failure after part of a reply was handed out sends
   * the request again and skips, in the new reply, what was already handed out (nothing is
   * handed out twice), provided the new reply's header matches the first one's; with
   * fail_after_partial_delivery set such a failure ends the call instead. */
  rvae_frame_fn frame_callback; /* UINT8 output only; see rvae_frame_fn for the thread rules */
  rvae_chunk_fn chunk_callback;
  rvae_layout_fn layout_callback; /* optional, with one of the three above */
  void* stream_user_data;         /* given to the three callbacks */
  /* Memory the reply is written to as it arrives, in the layout and dtype it has
   * (rvae_reply_layout; conversion is the caller's): UINT8 and FLOAT_TENSOR output. into_size
   * below the layout's `bytes` is refused with RVAE_ERR_INVALID_ARGUMENT before anything is
   * sent. Borrowed: it must stay valid until the call returns; a failed call may have written
   * part of it. */
  void* into;
  size_t into_size;
  /* Bytes received but not yet handed to the callbacks beyond which the transfer pauses (at
   * least one frame is always held); 0: 32 MiB. */
  size_t stream_max_buffered_bytes;
  /* 1: a transient failure after part of the reply was handed to a callback fails the call
   * instead of retrying; 0 (default): the retry skips what was handed out. */
  int fail_after_partial_delivery;
} rvae_decode_params;

/* Defaults, then the preset's factors when `model` names one (the usual request; NULL: no
 * scaling). An unknown model is reported by the call the params are given to.
 * Per-channel models (wan2.1, qwen-image): their statistics cannot live in these params, so init
 * leaves has_scaling_factor and has_shift_factor 0, and a call whose `model` names a per-channel
 * model applies the model's statistics (the client de-normalises the latents and sends them raw)
 * unless has_scaling_factor or has_shift_factor is set, which asks for those scalar factors
 * instead. The same holds for rvae_encode_params (the reply is normalised by the client, float32).
 */
RVAE_API void rvae_decode_params_init_sized(rvae_decode_params* p, size_t size, const char* model);
RVAE_API void rvae_decode_params_init(rvae_decode_params* p, const char* model);
#define rvae_decode_params_init(p, model) rvae_decode_params_init_sized((p), sizeof(*(p)), (model))

/* Decodes one image (latents [1,C,h,w], or packed Flux [1,L,4C] with height and width set).
 * `endpoint` NULL means the default decode endpoint of p->model. output_type must be IMAGE or
 * UINT8; batches, videos, the other outputs and streamed replies go through rvae_decode_full. */
RVAE_API int rvae_decode(rvae_client* c, const char* endpoint, const rvae_tensor_view* latents,
                         const rvae_decode_params* p, rvae_image* out, rvae_error** err);

/* Everything a decode can return. Allocated by the library; free with rvae_decode_result_free
 * (which frees the images, tensor and bytes it holds). */
typedef struct {
  rvae_output_type type;
  rvae_image* images; /* IMAGE: 1; UINT8: one per batch item or video frame, in order */
  size_t image_count;
  rvae_tensor tensor; /* FLOAT_TENSOR: [B,3,H,W] or [B,3,F,H,W] as received */
  uint8_t* bytes;     /* IMAGE: the JPEG/PNG as received; MP4: the file */
  size_t bytes_size;
  /* A streamed decode (added after bytes_size; see rvae_decode_params): images, tensor and bytes
   * stay empty, and these say what was handed out. All 0 for a reply held whole. */
  int streamed;
  int64_t frames_delivered;  /* frames given to frame_callback (or complete in `into`) */
  uint64_t bytes_delivered;  /* body bytes handed out (tensor data, or the MP4 file) */
  int64_t first_delivery_us; /* from the reply's first body byte (of the attempt that delivered
                              * it) to the first frame or chunk handed out; 0 when none was */
  int has_dtype;             /* the reply's dtype as received (0 for MP4) */
  rvae_dtype dtype;
} rvae_decode_result;

/* Decodes anything rvae_decode_params describes. With a stream set (frame_callback,
 * chunk_callback or `into`) the reply is handed out as it arrives and *out says what was
 * delivered. */
RVAE_API int rvae_decode_full(rvae_client* c, const char* endpoint, const rvae_tensor_view* latents,
                              const rvae_decode_params* p, rvae_decode_result** out,
                              rvae_error** err);

/* The layout a decode of `latents` with `p` will be answered with (shape, dtype, bytes), before
 * anything is sent: e.g. to allocate the memory `into` points to. Fills *out (set
 * out->struct_size first); no request for the Hugging Face protocol, the model's metadata (once
 * per client) for the Open Inference Protocol. Errors: those rvae_decode_full reports before
 * sending. */
RVAE_API int rvae_decode_reply_layout(rvae_client* c, const char* endpoint,
                                      const rvae_tensor_view* latents, const rvae_decode_params* p,
                                      rvae_reply_layout* out, rvae_error** err);

/* Decodes `count` latents concurrently (at most p->batch_max_in_flight requests at once), each
 * tiled as rvae_decode_full would tile it (the tiling fields apply to every item); results[i]
 * belongs to latents[i]. Each item succeeds or fails alone: results[i] is NULL for a failed one,
 * and errors[i] (when `errors` is not NULL) holds its error, NULL for a success. Returns 0 when
 * every item succeeded, else the status of the first failed item (and *err describes it).
 * p->cancel cancels the whole batch; p->progress reports items and bytes. The stream fields
 * must be unset (one buffer or callback cannot tell the items apart): stream with
 * rvae_decode_full per item. */
RVAE_API int rvae_decode_batch(rvae_client* c, const char* endpoint,
                               const rvae_tensor_view* latents, size_t count,
                               const rvae_decode_params* p, rvae_decode_result** results,
                               rvae_error** errors, rvae_error** err);

RVAE_API void rvae_decode_result_free(rvae_decode_result* r);
/* Frees img->data and zeroes *img. */
RVAE_API void rvae_image_free(rvae_image* img);
/* Frees t->data and zeroes *t. */
RVAE_API void rvae_tensor_free(rvae_tensor* t);

/* ---- Encode. */
typedef struct {
  size_t struct_size;     /* set by rvae_encode_params_init */
  const char* model;      /* preset name or NULL; must outlive the call */
  int has_scaling_factor; /* the reply is (latents - shift) * scaling */
  double scaling_factor;
  int has_shift_factor;
  double shift_factor;
  int64_t deadline_ms;       /* 0: the client's deadline */
  rvae_cancel_token* cancel; /* optional; borrowed */
  rvae_progress_fn progress; /* optional */
  void* progress_user_data;
  /* Tiling (added after the first rvae.h; 0 = default in each): */
  rvae_tile_mode tile_mode; /* default RVAE_TILE_AUTO */
  int tile_size;            /* largest tile side in pixels, a multiple of 8 (16 for packed Flux
                             * latents), at most max_image_side; 0: max_image_side */
  int tile_overlap;         /* overlap of neighbouring tiles in latent pixels (8 image pixels each),
                             * less than half a tile; 0: 16; RVAE_TILE_NONE: abutting tiles */
  int max_image_side;       /* the endpoint's cap in pixels; 0: the preset's when `model` names one,
                             * else 2048 */
  int tile_colour_reference; /* 0 or 1: one extra request, the whole image downsampled, that
                              * evens out the tiles' colours; RVAE_TILE_NONE: not sent */
  size_t tile_max_in_flight; /* requests of one tiled call on the wire at once; 0: 16 */
  /* As in rvae_decode_params (added after the tiling fields). */
  rvae_protocol protocol;
  const char* input_name;
  const char* output_name;
} rvae_encode_params;

RVAE_API void rvae_encode_params_init_sized(rvae_encode_params* p, size_t size, const char* model);
RVAE_API void rvae_encode_params_init(rvae_encode_params* p, const char* model);
#define rvae_encode_params_init(p, model) rvae_encode_params_init_sized((p), sizeof(*(p)), (model))

/* Encodes an RGB/RGBA image (sent as PNG); *out gets [1,C,H/8,W/8] latents in the dtype the
 * server sent. `endpoint` NULL means the default encode endpoint of p->model. */
RVAE_API int rvae_encode(rvae_client* c, const char* endpoint, const rvae_image* image,
                         const rvae_encode_params* p, rvae_tensor* out, rvae_error** err);

#ifdef __cplusplus
}
#endif

#endif /* RVAE_RVAE_H */
