#include "api/open_inference_stream_sink.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/try.hpp"

namespace rvae::detail {
namespace {

namespace oip = protocol::oip;
using Flow = transport::ReplySink::Flow;

std::optional<std::size_t> decimal(const std::string* text) {
  if (text == nullptr || text->empty()) return std::nullopt;
  std::size_t value = 0;
  const char* end = text->data() + text->size();
  const auto [stop, error] = std::from_chars(text->data(), end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return value;
}

}  // namespace

Result<void> OpenInferenceStreamSink::begin(int status, const std::vector<http::Header>& headers,
                                            transport::Resume resume) {
  status_ = status;
  headers_ = headers;
  resume_ = std::move(resume);
  header_.clear();
  const std::optional<std::size_t> header_length =
      decimal(http::find_header(headers, "Inference-Header-Content-Length"));
  // The JSON form, or an output that must be converted whole: held, then parsed as usual.
  if (!plan_ || !oip::streams_as_received(*plan_) || !header_length || *header_length == 0 ||
      *header_length > max_header_bytes_) {
    return start_whole();
  }
  stage_ = Stage::kHeader;
  header_expected_ = *header_length;
  header_.reserve(header_expected_);
  return {};
}

Result<void> OpenInferenceStreamSink::start_whole() {
  stage_ = Stage::kWhole;
  RVAE_TRY(whole_->begin(status_, headers_, resume_));
  if (!header_.empty()) {
    RVAE_ASSIGN_OR_RETURN(Flow flow, whole_->write(header_.data(), header_.size()));
    (void)flow;  // The whole reply's sink never pauses.
  }
  return {};
}

Result<transport::ReplySink::Flow> OpenInferenceStreamSink::write(const std::uint8_t* data,
                                                                  std::size_t size) {
  if (stage_ == Stage::kWhole) return whole_->write(data, size);
  std::size_t at = 0;
  if (stage_ == Stage::kHeader) {
    const std::size_t part = std::min(size, header_expected_ - header_.size());
    header_.insert(header_.end(), data, data + part);
    at = part;
    if (header_.size() < header_expected_) return Flow::kTaken;
    const std::string_view json(reinterpret_cast<const char*>(header_.data()), header_.size());
    RVAE_ASSIGN_OR_RETURN(std::optional<oip::BinaryOutputPlace> place,
                          oip::locate_binary_output(json, plan_->infer));
    if (!place) {
      RVAE_TRY(start_whole());
      return whole_->write(data + at, size - at);
    }
    RVAE_TRY(streamer_->begin_attempt(oip::reply_layout(*plan_), resume_));
    skip_left_ = place->offset;
    payload_left_ = place->bytes;
    trailing_left_ = place->binary_bytes - place->offset - place->bytes;
    stage_ = Stage::kSkip;
  }
  // The header's bytes of this call are taken: the streamer may not pause what follows them.
  const bool may_pause = at == 0;
  if (stage_ == Stage::kSkip) {
    const auto part = static_cast<std::size_t>(std::min<std::uint64_t>(skip_left_, size - at));
    skip_left_ -= part;
    at += part;
    if (skip_left_ == 0) stage_ = Stage::kPayload;
  }
  if (stage_ == Stage::kPayload && at < size) {
    const auto part = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, size - at));
    RVAE_ASSIGN_OR_RETURN(Flow flow, streamer_->write(data + at, part, may_pause && at == 0));
    if (flow == Flow::kPause) return flow;
    payload_left_ -= part;
    at += part;
    if (payload_left_ == 0) stage_ = Stage::kTrailing;
  }
  if (stage_ == Stage::kTrailing && at < size) {
    if (size - at > trailing_left_) {
      return Error(ErrorCode::kDataLoss,
                   "inference reply runs past the binary outputs its JSON header declares");
    }
    trailing_left_ -= size - at;
  }
  return Flow::kTaken;
}

}  // namespace rvae::detail
