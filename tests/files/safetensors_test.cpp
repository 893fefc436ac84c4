#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "files/alloc_tracker.hpp"
#include "rvae/latent_file.hpp"
#include "rvae/tensor.hpp"
#include "support/result_matchers.hpp"
#include "support/temp_dir.hpp"

namespace rvae {
namespace {

using ::testing::HasSubstr;
using testing_support::IsError;

// A safetensors file: u64 little-endian header length, header text, data.
Bytes make_file(const std::string& header, const Bytes& data) {
  Bytes out;
  const std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes with_header_length(std::uint64_t n, const Bytes& rest) {
  Bytes out;
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

Result<std::vector<NamedTensor>> parse(const Bytes& file) {
  return parse_safetensors(file.data(), file.size());
}

// Parses a file whose single tensor "t" has the given entry JSON and `data_size` data bytes.
Result<std::vector<NamedTensor>> parse_entry(const std::string& entry, std::size_t data_size) {
  return parse(make_file("{\"t\":" + entry + "}", Bytes(data_size, 0)));
}

// 1.0f = 0x3F800000 and -2.0f = 0xC0000000, little-endian.
const Bytes kOneMinusTwo = {0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0};

TEST(SafetensorsParse, HandBuiltSingleFloat32Tensor) {
  auto result =
      parse(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", kOneMinusTwo));
  ASSERT_TRUE(result) << result.error().what();
  ASSERT_EQ(result->size(), 1u);
  const NamedTensor& a = (*result)[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.tensor.dtype(), DType::kFloat32);
  EXPECT_EQ(a.tensor.shape(), (Shape{2}));
  EXPECT_EQ(a.tensor.to_floats(), (std::vector<float>{1.0f, -2.0f}));
}

TEST(SafetensorsParse, MetadataSkippedTensorsSortedByOffsetAndPaddingAccepted) {
  // U8 "b" at [0,2), F16 "a" 1.0 = 0x3C00 at [2,4), BF16 "c" 1.0 = 0x3F80 at [4,6); the JSON
  // lists them in another order and the header ends with padding spaces.
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"c":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]},)"
      R"("a":{"dtype":"F16","shape":[1,1],"data_offsets":[2,4]},)"
      R"("b":{"shape":[2],"dtype":"U8","data_offsets":[0,2]}}     )";
  const Bytes data = {7, 9, 0x00, 0x3C, 0x80, 0x3F};
  auto result = parse(make_file(header, data));
  ASSERT_TRUE(result) << result.error().what();
  ASSERT_EQ(result->size(), 3u);
  EXPECT_EQ((*result)[0].name, "b");
  EXPECT_EQ((*result)[0].tensor.dtype(), DType::kUInt8);
  EXPECT_EQ((*result)[0].tensor.data()[1], 9);
  EXPECT_EQ((*result)[1].name, "a");
  EXPECT_EQ((*result)[1].tensor.dtype(), DType::kFloat16);
  EXPECT_EQ((*result)[1].tensor.shape(), (Shape{1, 1}));
  EXPECT_EQ((*result)[1].tensor.to_floats(), std::vector<float>{1.0f});
  EXPECT_EQ((*result)[2].name, "c");
  EXPECT_EQ((*result)[2].tensor.dtype(), DType::kBFloat16);
  EXPECT_EQ((*result)[2].tensor.to_floats(), std::vector<float>{1.0f});
}

TEST(SafetensorsParse, EmptyHeaderObjectHasNoTensors) {
  auto result = parse(make_file("{}", {}));
  ASSERT_TRUE(result) << result.error().what();
  EXPECT_TRUE(result->empty());
}

TEST(SafetensorsSerialize, ExactBytesForOneTensor) {
  const float value = 1.0f;
  TensorView view{&value, 4, {1}, DType::kFloat32};
  auto bytes = serialize_safetensors({{"x", view}});
  ASSERT_TRUE(bytes) << bytes.error().what();
  // 54 characters of JSON, padded with 2 spaces to 56, a multiple of 8.
  const std::string header = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  ASSERT_EQ(header.size(), 54u);
  const Bytes expected = make_file(header + "  ", {0x00, 0x00, 0x80, 0x3F});
  EXPECT_EQ(*bytes, expected);
}

TEST(SafetensorsSerialize, KeepsTheGivenOrderAndOffsetsAreContiguous) {
  const std::uint8_t small[3] = {1, 2, 3};
  const std::uint16_t half[2] = {0x3C00, 0xC000};
  auto bytes = serialize_safetensors(
      {{"zeta", {small, 3, {3}, DType::kUInt8}}, {"alpha", {half, 4, {2, 1}, DType::kFloat16}}});
  ASSERT_TRUE(bytes);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | (*bytes)[static_cast<std::size_t>(i)];
  EXPECT_EQ(n % 8, 0u);
  const std::string header(bytes->begin() + 8, bytes->begin() + 8 + static_cast<long>(n));
  EXPECT_LT(header.find("\"zeta\""), header.find("\"alpha\""));
  EXPECT_THAT(header, HasSubstr(R"("data_offsets":[0,3])"));
  EXPECT_THAT(header, HasSubstr(R"("data_offsets":[3,7])"));
  EXPECT_EQ(bytes->size(), 8 + n + 7);
}

TEST(SafetensorsRoundTrip, EveryDtypeAndRankOneToFive) {
  const DType dtypes[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kUInt8};
  const Shape shapes[] = {{5}, {2, 3}, {1, 4, 3}, {2, 1, 3, 2}, {1, 2, 2, 1, 3}};
  std::vector<Bytes> storage;
  std::vector<std::pair<std::string, TensorView>> views;
  int index = 0;
  for (const DType dtype : dtypes) {
    for (const Shape& shape : shapes) {
      auto size = checked_byte_size(shape, dtype);
      ASSERT_TRUE(size);
      Bytes data(*size);
      for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<std::uint8_t>(i * 31 + static_cast<std::size_t>(index));
      }
      storage.push_back(std::move(data));
      views.push_back({"t" + std::to_string(index++), {nullptr, *size, shape, dtype}});
    }
  }
  for (std::size_t i = 0; i < views.size(); ++i)
    views[i].second.data = storage[i].data();

  auto bytes = serialize_safetensors(views);
  ASSERT_TRUE(bytes) << bytes.error().what();
  auto parsed = parse(*bytes);
  ASSERT_TRUE(parsed) << parsed.error().what();
  ASSERT_EQ(parsed->size(), views.size());
  for (std::size_t i = 0; i < views.size(); ++i) {
    const NamedTensor& got = (*parsed)[i];
    EXPECT_EQ(got.name, views[i].first);
    EXPECT_EQ(got.tensor.dtype(), views[i].second.dtype);
    EXPECT_EQ(got.tensor.shape(), views[i].second.shape);
    EXPECT_EQ(Bytes(got.tensor.data(), got.tensor.data() + got.tensor.size_bytes()), storage[i]);
  }
}

TEST(SafetensorsSerialize, RejectsBadNamesAndViews) {
  const float values[2] = {1, 2};
  const TensorView good{values, 8, {2}, DType::kFloat32};
  struct Case {
    std::vector<std::pair<std::string, TensorView>> tensors;
    std::string fragment;
  };
  const Case cases[] = {
      {{{"", good}}, "empty name"},
      {{{"__metadata__", good}}, "reserved"},
      {{{"a", good}, {"a", good}}, "used twice"},
      {{{"a", TensorView{values, 4, {2}, DType::kFloat32}}}, "needs 8 bytes"},
      {{{"a", TensorView{nullptr, 8, {2}, DType::kFloat32}}}, "null"},
      {{{"\xff\xfe", good}}, "UTF-8"},
  };
  for (const Case& c : cases) {
    auto result = serialize_safetensors(c.tensors);
    ASSERT_FALSE(result) << c.fragment;
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(result.error().message(), HasSubstr(c.fragment));
  }
}

TEST(SafetensorsFiles, WriteThenReadAndErrorsNameThePath) {
  const testing_support::TempDir dir("rvae_st");
  const std::string path = dir.path("latents.safetensors");
  const float values[2] = {0.5f, -0.25f};
  ASSERT_TRUE(write_safetensors(path, {{"latents", {values, 8, {1, 2}, DType::kFloat32}}}));
  auto read = read_safetensors(path);
  ASSERT_TRUE(read) << read.error().what();
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].tensor.to_floats(), (std::vector<float>{0.5f, -0.25f}));

  auto bad_write = write_safetensors(dir.path("other"), {{"", {values, 8, {2}, DType::kFloat32}}});
  ASSERT_FALSE(bad_write);
  EXPECT_EQ(bad_write.error().code(), ErrorCode::kInvalidArgument);

  const Bytes garbage = {1, 2, 3};
  ASSERT_TRUE(write_file(path, garbage.data(), garbage.size()));
  auto corrupt = read_safetensors(path);
  ASSERT_FALSE(corrupt);
  EXPECT_EQ(corrupt.error().code(), ErrorCode::kDataLoss);
  EXPECT_THAT(corrupt.error().message(), HasSubstr(path));

  ASSERT_TRUE(std::filesystem::remove(std::filesystem::u8path(path)));
  auto missing = read_safetensors(path);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message(), HasSubstr(path));
}

TEST(SafetensorsHostile, EveryTruncationIsDataLoss) {
  const std::uint16_t half[3] = {1, 2, 3};
  const std::uint8_t bytes[4] = {4, 5, 6, 7};
  auto file = serialize_safetensors(
      {{"h", {half, 6, {3}, DType::kFloat16}}, {"u", {bytes, 4, {2, 2}, DType::kUInt8}}});
  ASSERT_TRUE(file);
  ASSERT_TRUE(parse(*file));
  for (std::size_t n = 0; n < file->size(); ++n) {
    // A fresh copy of exactly n bytes, so ASan catches any read past the prefix.
    const Bytes prefix(file->begin(), file->begin() + static_cast<long>(n));
    auto result = parse_safetensors(n == 0 ? nullptr : prefix.data(), n);
    ASSERT_FALSE(result) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(result.error().code(), ErrorCode::kDataLoss) << n << ": " << result.error().what();
  }
}

TEST(SafetensorsHostile, HeaderLengths) {
  EXPECT_THAT(parse(with_header_length(std::uint64_t{1} << 63, Bytes(100, ' '))),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("exceeds the limit")));
  EXPECT_THAT(parse(with_header_length(100'000'001, Bytes(100, ' '))),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("exceeds the limit")));
  EXPECT_THAT(parse(with_header_length(50, Bytes(10, ' '))),
              IsError(ErrorCode::kDataLoss, HasSubstr("file is 18 bytes, header needs 58")));
  EXPECT_THAT(parse(with_header_length(0, {})),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("not valid JSON")));
  auto null = parse_safetensors(nullptr, 5);
  ASSERT_FALSE(null);
  EXPECT_EQ(null.error().code(), ErrorCode::kInvalidArgument);
}

TEST(SafetensorsHostile, MalformedJson) {
  EXPECT_THAT(parse(make_file("{\"a\": [1, 2", {})),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("not valid JSON")));
  EXPECT_THAT(parse(make_file("garbage", {})),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("not valid JSON")));
  EXPECT_THAT(parse(make_file("{\"\xff\xfe\":{}}", {})),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("UTF-8")));
  EXPECT_THAT(parse(make_file("[]", {})),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("not a JSON object")));
  EXPECT_THAT(parse(make_file(std::string(100, '[') + std::string(100, ']'), {})),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("nested deeper")));
  EXPECT_THAT(parse(make_file(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                              R"("t":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                              Bytes(2, 0))),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("'t' twice")));
  EXPECT_THAT(parse_entry(R"({"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]})", 1),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("'dtype' twice")));
}

TEST(SafetensorsHostile, WrongEntryTypes) {
  struct Case {
    std::string entry;
    std::string fragment;
  };
  const Case cases[] = {
      {R"([1,2])", "not a JSON object"},
      {R"({"shape":[1],"data_offsets":[0,1]})", "no string \"dtype\""},
      {R"({"dtype":5,"shape":[1],"data_offsets":[0,1]})", "no string \"dtype\""},
      {R"({"dtype":"U8","data_offsets":[0,1]})", "no \"shape\" array"},
      {R"({"dtype":"U8","shape":"1","data_offsets":[0,1]})", "no \"shape\" array"},
      {R"({"dtype":"U8","shape":[1.5],"data_offsets":[0,1]})", "shape must hold integers"},
      {R"({"dtype":"U8","shape":["1"],"data_offsets":[0,1]})", "shape must hold integers"},
      {R"({"dtype":"U8","shape":[1]})", "data_offsets"},
      {R"({"dtype":"U8","shape":[1],"data_offsets":[0]})", "data_offsets"},
      {R"({"dtype":"U8","shape":[1],"data_offsets":{"a":1}})", "data_offsets"},
      {R"({"dtype":"U8","shape":[1],"data_offsets":[-1,0]})", "negative"},
      {R"({"dtype":"U8","shape":[1],"data_offsets":[0,-1]})", "negative"},
      {R"({"dtype":"U8","shape":[1],"data_offsets":[0,1.0]})", "must hold integers"},
      {R"({"dtype":"U8","shape":[1],"data_offsets":["0",1]})", "must hold integers"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.entry);
    EXPECT_THAT(parse_entry(c.entry, 1),
                IsError(ErrorCode::kInvalidArgument, HasSubstr(c.fragment)));
  }
}

TEST(SafetensorsHostile, UnsupportedDtypesAreNamed) {
  for (const std::string dtype : {"F64", "I64", "I32", "BOOL", "F8_E4M3", "f32"}) {
    auto result =
        parse_entry(R"({"dtype":")" + dtype + R"(","shape":[1],"data_offsets":[0,8]})", 8);
    EXPECT_THAT(result, IsError(ErrorCode::kInvalidArgument, HasSubstr("'" + dtype + "'")));
    EXPECT_THAT(result.error().message(), HasSubstr("'t'"));
  }
}

TEST(SafetensorsHostile, BadShapes) {
  struct Case {
    std::string shape;
    std::string fragment;
  };
  const Case cases[] = {
      {"[]", "scalar"},
      {"[1,1,1,1,1,1]", "6 dimensions"},
      {"[-3]", "negative dimension -3"},
      {"[2,0]", "zero dimension"},
      {"[9223372036854775808]", "too large"},
      {"[1099511627776,1099511627776]", "overflows"},  // 2^40 x 2^40 x 4 bytes.
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.shape);
    EXPECT_THAT(
        parse_entry(R"({"dtype":"F32","shape":)" + c.shape + R"(,"data_offsets":[0,4]})", 4),
        IsError(ErrorCode::kInvalidArgument, HasSubstr(c.fragment)));
  }
}

TEST(SafetensorsHostile, BadOffsets) {
  EXPECT_THAT(parse_entry(R"({"dtype":"U8","shape":[2],"data_offsets":[2,0]})", 2),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("before it begins")));
  EXPECT_THAT(parse_entry(R"({"dtype":"F32","shape":[2],"data_offsets":[0,4]})", 4),
              IsError(ErrorCode::kInvalidArgument,
                      HasSubstr("spans 4 bytes but shape [2] of F32 needs 8")));
  EXPECT_THAT(parse_entry(R"({"dtype":"U8","shape":[4],"data_offsets":[0,4]})", 3),
              IsError(ErrorCode::kDataLoss, HasSubstr("data is 3 bytes, tensor 't' needs 4")));
  EXPECT_THAT(parse_entry(R"({"dtype":"U8","shape":[2],"data_offsets":[0,2]})", 5),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("3 bytes after the last tensor")));
  EXPECT_THAT(parse_entry(R"({"dtype":"U8","shape":[2],"data_offsets":[1,3]})", 3),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("gap of 1 bytes before tensor 't'")));
  EXPECT_THAT(parse(make_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                              R"("b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
                              Bytes(4, 0))),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("overlap")));
  EXPECT_THAT(parse(make_file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                              R"("b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}})",
                              Bytes(5, 0))),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("gap of 1 bytes before tensor 'b'")));
  EXPECT_THAT(parse_entry(R"({"dtype":"U8","shape":[2],"data_offsets":[18446744073709551614,)"
                          R"(18446744073709551615]})",
                          2),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("spans 1 bytes")));
  EXPECT_THAT(parse_entry(R"({"dtype":"U8","shape":[2],"data_offsets":[18446744073709551613,)"
                          R"(18446744073709551615]})",
                          2),
              IsError(ErrorCode::kDataLoss, HasSubstr("needs 18446744073709551615")));
}

TEST(SafetensorsHostile, BadMetadata) {
  EXPECT_THAT(parse(make_file(R"({"__metadata__":[1]})", {})),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("__metadata__ is not a JSON object")));
  EXPECT_THAT(parse(make_file(R"({"__metadata__":{"k":1}})", {})),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("'k' is not a string")));
}

TEST(SafetensorsHostile, HugeClaimedTensorFailsFastWithoutAllocating) {
  // 10^12 float32 elements (4 TB) claimed by a file of about 100 bytes.
  const Bytes file = make_file(
      R"({"t":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4000000000000]}})",
      Bytes(16, 0));
  const auto start = std::chrono::steady_clock::now();
  testing_support::reset_largest_allocation();
  auto result = parse(file);
  const std::size_t largest = testing_support::largest_allocation();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_THAT(result, IsError(ErrorCode::kDataLoss, HasSubstr("needs 4000000000000")));
  EXPECT_LT(largest, 4096u);
  EXPECT_LT(elapsed, std::chrono::seconds(1));
}

// The header's limits hold while it is parsed: these headers used to be parsed whole into a
// JSON tree (1.08 GB for the first, 1.5 GB for a 90 MB version of the second) before anything
// was refused. The peak heap growth shows the parse now holds a small fraction of its input.
TEST(SafetensorsHostile, HugeShapeArrayIsRefusedWhileParsing) {
  // 66 MB: one entry whose shape lists 33 million dimensions.
  std::string header = R"({"t":{"dtype":"U8","data_offsets":[0,1],"shape":[1)";
  header.reserve(66'000'100);
  for (int i = 1; i < 33'000'000; ++i)
    header += ",1";
  header += "]}}";
  const Bytes file = make_file(header, Bytes(1, 0));
  header = std::string();
  testing_support::reset_peak_heap();
  auto result = parse(file);
  const std::size_t peak = testing_support::peak_heap_growth();
  EXPECT_THAT(
      result,
      IsError(ErrorCode::kInvalidArgument,
              HasSubstr("tensor 't' holds more than 64 JSON values; an entry needs at most 14")));
  EXPECT_LT(peak, std::size_t{1} << 20);
}

TEST(SafetensorsHostile, MetadataWithTooManyKeysIsRefusedWhileParsing) {
  std::string header = R"({"__metadata__":{)";
  for (int i = 0; i <= 65536; ++i)
    header += (i == 0 ? "\"k" : ",\"k") + std::to_string(i) + "\":\"v\"";
  header += "}}";
  const Bytes file = make_file(header, {});
  header = std::string();
  testing_support::reset_peak_heap();
  auto result = parse(file);
  const std::size_t peak = testing_support::peak_heap_growth();
  EXPECT_THAT(result, IsError(ErrorCode::kInvalidArgument,
                              HasSubstr("safetensors __metadata__ has more than 65536 entries")));
  // The keys are remembered to find duplicates (about 100 bytes each); the values are not.
  EXPECT_LT(peak, std::size_t{16} << 20);

  // 65536 entries are accepted, and a large value costs only itself while it is read.
  std::string ok = R"({"__metadata__":{"big":")" + std::string(8'000'000, 'x') + R"("}})";
  testing_support::reset_peak_heap();
  EXPECT_TRUE(parse(make_file(ok, {})));
}

TEST(SafetensorsHostile, TensorCountIsBoundedByTheDataAndALimit) {
  // Two one-byte tensors need two data bytes: a header listing them over one byte is refused.
  EXPECT_THAT(parse(make_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                              R"("b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                              Bytes(1, 0))),
              IsError(ErrorCode::kDataLoss,
                      HasSubstr("lists more tensors than the 1-byte data buffer can hold")));
  std::string header = "{";
  for (int i = 0; i <= 65536; ++i) {
    header += (i == 0 ? "\"t" : ",\"t") + std::to_string(i) +
              R"(":{"dtype":"U8","shape":[1],"data_offsets":[)" + std::to_string(i) + "," +
              std::to_string(i + 1) + "]}";
  }
  header += "}";
  EXPECT_THAT(parse(make_file(header, Bytes(65537, 0))),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("lists more than 65536 tensors")));
}

TEST(SafetensorsHostile, EntriesAreReadAsTheyCloseAndKeepTheirChecks) {
  // Unknown fields are tolerated within the per-entry limit.
  auto extra = parse_entry(R"({"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":{"y":[1,2]}})", 1);
  ASSERT_TRUE(extra) << extra.error().what();
  // A syntax error after a bad entry is reported as the syntax error.
  EXPECT_THAT(parse(make_file(R"({"t":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},)", {})),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("not valid JSON")));
  // Metadata nested values and arrays are refused as non-strings.
  EXPECT_THAT(parse(make_file(R"({"__metadata__":{"k":{"a":[1,2,3]}}})", {})),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("'k' is not a string")));
  EXPECT_THAT(parse(make_file(R"({"__metadata__":"text"})", {})),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("__metadata__ is not a JSON object")));
}

TEST(SafetensorsHostile, ParsedTensorsAllocateOnlyTheirOwnBytes) {
  const Bytes data(4096, 1);
  const Bytes file =
      make_file(R"({"t":{"dtype":"U8","shape":[64,64],"data_offsets":[0,4096]}})", data);
  testing_support::reset_largest_allocation();
  auto result = parse(file);
  ASSERT_TRUE(result);
  EXPECT_LE(testing_support::largest_allocation(), 4096u);
}

}  // namespace
}  // namespace rvae
