#include "streamed_output.hpp"

#include "common.hpp"
#include "output_files.hpp"
#include "rvae/tiled.hpp"

namespace rvae::cli {
namespace {

double milliseconds(std::chrono::microseconds value) {
  return static_cast<double>(value.count()) / 1000.0;
}

}  // namespace

std::unique_ptr<StreamedOutput> StreamedOutput::open(Client& client, const Endpoint& endpoint,
                                                     const TensorView& latents,
                                                     const DecodeOptions& options,
                                                     const std::string& target,
                                                     const std::string& video_directory) {
  if (target == "-" || options.output_type == OutputType::kImage) return nullptr;
  std::unique_ptr<StreamedOutput> out(new StreamedOutput());
  out->target_ = target;
  switch (options.output_type) {
    case OutputType::kImage:
      return nullptr;
    case OutputType::kUInt8: {
      out->layout_ = take(client.reply_layout(endpoint, latents, options));
      const bool directory = is_directory_target(target);
      if (!directory && out->layout_.frames != 1) {
        if (video_directory.empty()) {
          throw Error(ErrorCode::kInvalidArgument,
                      "the reply holds " + std::to_string(out->layout_.frames) +
                          " images; give a directory (ending in '/') as -o OUT");
        }
        out->target_ = video_directory;
      }
      out->frames_ = std::make_unique<FrameFiles>(out->target_, is_directory_target(out->target_),
                                                  out->layout_.frames);
      return out;
    }
    case OutputType::kFloatTensor: {
      // Temporal chunks hand out whole frames only (rvae/tiled.hpp): such a tensor is held whole
      // and written at the end, as before.
      if (decode_needs_chunking(latents, options)) return nullptr;
      const std::string extension = extension_of(target);
      if (extension != ".npy" && extension != ".safetensors") {
        throw Error(ErrorCode::kInvalidArgument,
                    "tensor output must be .safetensors or .npy: " + target);
      }
      out->layout_ = take(client.reply_layout(endpoint, latents, options));
      out->file_ = std::make_unique<StreamedFile>(
          target, extension == ".npy" ? StreamedFormat::kNpy : StreamedFormat::kSafetensors,
          out->layout_, "images");
      return out;
    }
    case OutputType::kMp4:
      out->file_ = std::make_unique<StreamedFile>(target, StreamedFormat::kRaw, ReplyLayout{}, "");
      return out;
  }
  return nullptr;
}

ReplyStream StreamedOutput::stream() {
  ReplyStream stream;
  if (frames_) {
    stream.on_frame = [this](const FrameView& frame) {
      try {
        frames_->write(frame);
      } catch (const Error& error) {
        if (!write_error_) write_error_ = error;  // The first one is the cause.
        throw;
      }
    };
  } else if (file_) {
    stream.on_chunk = [this](const ReplyChunk& chunk) {
      try {
        file_->write(chunk);
      } catch (const Error& error) {
        if (!write_error_) write_error_ = error;  // The first one is the cause.
        throw;
      }
    };
  }
  return stream;
}

void StreamedOutput::finish(const DecodeOutput& result, InputReport& report) {
  if (frames_) {
    if (frames_->written() != frames_->total()) {
      throw fail(Error(ErrorCode::kDataLoss, "the reply ended before its last frame"), report);
    }
    report.output = target_;
    // As received; a call that does not fill it (a tiled one) has the layout asked before.
    report.shape = result.layout.shape.empty() ? layout_.shape : result.layout.shape;
    report.bytes = bytes_on_disk(target_);
    report.frames_written = frames_->written();
    // From the reply's first body byte until the first frame was handed over and our callback
    // returned, i.e. its file is on disk (the library measures after the callback).
    if (result.delivered.frames > 0) {
      report.first_frame_ms = milliseconds(result.delivered.first_delivery);
    }
    return;
  }
  report.bytes = file_->finish(result.layout);
  report.output = target_;  // Only once the file is there.
  if (result.type == OutputType::kFloatTensor) {
    report.shape = result.layout.shape;
    // The reply's dtype, as for a reply held whole (a bfloat16 one is widened in a .npy).
    const DType dtype = result.layout.dtype.value_or(DType::kFloat32);
    report.dtype = std::string(dtype_name(dtype));
  }
}

Error StreamedOutput::fail(const Error& call_error, InputReport& report) {
  const Error& error = write_error_ ? *write_error_ : call_error;
  if (!frames_) {
    file_.reset();  // Removes the partial file: nothing half-written stays behind.
    return error;
  }
  report.frames_written = frames_->written();
  // Before the first frame the error alone says it all.
  if (frames_->written() == 0) return error;
  report.output = target_;
  Error described(error.code(), frames_->missing_text() + ": " + error.message());
  if (error.http_status() != 0) described.with_http_status(error.http_status());
  if (!error.server_message().empty()) described.with_server_message(error.server_message());
  return described;
}

}  // namespace rvae::cli
