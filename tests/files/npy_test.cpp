#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
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

Bytes to_bytes(const std::string& text) {
  return Bytes(text.begin(), text.end());
}

// A format 1.0 file with this header text (used as is: callers pad it) and body.
Bytes npy_v1(const std::string& header, const Bytes& body) {
  Bytes out = to_bytes(std::string("\x93NUMPY\x01\x00", 8));
  out.push_back(static_cast<std::uint8_t>(header.size() & 0xFF));
  out.push_back(static_cast<std::uint8_t>(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// The same for format 2.0/3.0 (u32 header length).
Bytes npy_v23(int major, const std::string& header, const Bytes& body) {
  Bytes out = to_bytes(std::string("\x93NUMPY", 6));
  out.push_back(static_cast<std::uint8_t>(major));
  out.push_back(0);
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<std::uint8_t>(header.size() >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes floats_le(const std::vector<float>& values) {
  Bytes out(values.size() * 4);
  std::memcpy(out.data(), values.data(), out.size());  // The test hosts are little-endian.
  return out;
}

Result<Tensor> parse(const Bytes& file) {
  return parse_npy(file.data(), file.size());
}

// A header with a shape and descr, as a minimal dict, and a zero body of `body_size` bytes.
Result<Tensor> parse_header(const std::string& header, std::size_t body_size) {
  return parse(npy_v1(header + "\n", Bytes(body_size, 0)));
}

// What numpy 1.x's np.save writes for a float32 array of shape (2, 3): the dict, 58 spaces and
// a newline make the header 118 ('v') bytes, so the body starts at byte 128.
const std::string kNumpyHeader2x3 =
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + std::string(58, ' ') + "\n";
const std::vector<float> kSixValues = {0.0f, 1.0f, -2.5f, 3.25f, 1e-3f, -7.0f};

TEST(NpyParse, HandBuiltNumpyFile) {
  const Bytes file = npy_v1(kNumpyHeader2x3, floats_le(kSixValues));
  ASSERT_EQ(file[8], 'v');
  ASSERT_EQ(file.size(), 128u + 24u);
  auto tensor = parse(file);
  ASSERT_TRUE(tensor) << tensor.error().what();
  EXPECT_EQ(tensor->dtype(), DType::kFloat32);
  EXPECT_EQ(tensor->shape(), (Shape{2, 3}));
  EXPECT_EQ(tensor->to_floats(), kSixValues);
}

TEST(NpySerialize, MatchesNumpyByteForByte) {
  const TensorView view{kSixValues.data(), 24, {2, 3}, DType::kFloat32};
  auto bytes = serialize_npy(view);
  ASSERT_TRUE(bytes) << bytes.error().what();
  EXPECT_EQ(*bytes, npy_v1(kNumpyHeader2x3, floats_le(kSixValues)));
}

TEST(NpySerialize, OneTupleAndAlignment) {
  const std::uint8_t values[5] = {1, 2, 3, 4, 5};
  auto bytes = serialize_npy({values, 5, {5}, DType::kUInt8});
  ASSERT_TRUE(bytes);
  const std::size_t header_size = static_cast<std::size_t>((*bytes)[8] | ((*bytes)[9] << 8));
  EXPECT_EQ((10 + header_size) % 64, 0u);
  const std::string header(bytes->begin() + 10,
                           bytes->begin() + 10 + static_cast<long>(header_size));
  EXPECT_EQ(header.rfind("{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }", 0), 0u);
  EXPECT_EQ(header.back(), '\n');
}

TEST(NpyParse, LiteralGrammarVariants) {
  const Bytes body = floats_le({1.0f, 2.0f});
  const std::string headers[] = {
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
      "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
      "  {  \"descr\" :\"<f4\",'fortran_order':False,'shape':( 2 , ) ,}  ",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
      "{'descr': '<f4',\n 'fortran_order': False,\t'shape': (1, 1, 2)}",
  };
  for (const std::string& header : headers) {
    SCOPED_TRACE(header);
    auto tensor = parse(npy_v1(header + "\n", body));
    ASSERT_TRUE(tensor) << tensor.error().what();
    EXPECT_EQ(tensor->numel(), 2u);
    EXPECT_EQ(tensor->to_floats(), (std::vector<float>{1.0f, 2.0f}));
  }
  // No trailing newline at all is accepted too.
  EXPECT_TRUE(parse(npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", body)));
}

TEST(NpyParse, Versions2And3UseA32BitHeaderLength) {
  const std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
  for (const int major : {2, 3}) {
    auto tensor = parse(npy_v23(major, header, floats_le({3.0f, 4.0f})));
    ASSERT_TRUE(tensor) << tensor.error().what();
    EXPECT_EQ(tensor->to_floats(), (std::vector<float>{3.0f, 4.0f}));
  }
}

TEST(NpyParse, HalfBytesAndDoubles) {
  // float16 1.0 = 0x3C00, -2.0 = 0xC000.
  auto half = parse(npy_v1("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }\n",
                           {0x00, 0x3C, 0x00, 0xC0}));
  ASSERT_TRUE(half) << half.error().what();
  EXPECT_EQ(half->dtype(), DType::kFloat16);
  EXPECT_EQ(half->to_floats(), (std::vector<float>{1.0f, -2.0f}));

  for (const std::string descr : {"|u1", "<u1"}) {
    auto u8 = parse(npy_v1("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (3,), }\n",
                           {0, 128, 255}));
    ASSERT_TRUE(u8) << u8.error().what();
    EXPECT_EQ(u8->dtype(), DType::kUInt8);
    EXPECT_EQ(u8->to_floats(), (std::vector<float>{0.0f, 128.0f, 255.0f}));
  }

  // float64 1.5 = 0x3FF8000000000000; 1e300 overflows float32 to +inf; 0.1 rounds to 0.1f.
  const double doubles[3] = {1.5, 1e300, 0.1};
  Bytes body(24);
  std::memcpy(body.data(), doubles, 24);
  auto narrowed =
      parse(npy_v1("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n", body));
  ASSERT_TRUE(narrowed) << narrowed.error().what();
  EXPECT_EQ(narrowed->dtype(), DType::kFloat32);
  const std::vector<float> got = narrowed->to_floats();
  EXPECT_EQ(got[0], 1.5f);
  EXPECT_EQ(got[1], std::numeric_limits<float>::infinity());
  EXPECT_EQ(got[2], 0.1f);
}

TEST(NpyRoundTrip, EveryDtypeAndRankOneToFive) {
  const Shape shapes[] = {{7}, {2, 3}, {1, 4, 3}, {2, 1, 3, 2}, {1, 2, 2, 1, 3}};
  for (const DType dtype : {DType::kFloat32, DType::kFloat16, DType::kUInt8}) {
    for (const Shape& shape : shapes) {
      auto size = checked_byte_size(shape, dtype);
      ASSERT_TRUE(size);
      Bytes data(*size);
      for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<std::uint8_t>(i * 13);
      auto bytes = serialize_npy({data.data(), data.size(), shape, dtype});
      ASSERT_TRUE(bytes) << bytes.error().what();
      EXPECT_EQ((bytes->size() - data.size()) % 64, 0u);
      auto tensor = parse(*bytes);
      ASSERT_TRUE(tensor) << tensor.error().what();
      EXPECT_EQ(tensor->dtype(), dtype);
      EXPECT_EQ(tensor->shape(), shape);
      EXPECT_EQ(Bytes(tensor->data(), tensor->data() + tensor->size_bytes()), data);
    }
  }
}

TEST(NpySerialize, RejectsBfloat16AndInvalidViews) {
  const std::uint16_t values[2] = {0x3F80, 0x4000};
  auto bf16 = serialize_npy({values, 4, {2}, DType::kBFloat16});
  ASSERT_FALSE(bf16);
  EXPECT_EQ(bf16.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(bf16.error().message(), HasSubstr("bfloat16"));
  EXPECT_THAT(bf16.error().message(), HasSubstr("convert"));

  auto mismatch = serialize_npy({values, 3, {2}, DType::kFloat16});
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code(), ErrorCode::kInvalidArgument);
  auto null = serialize_npy({nullptr, 4, {2}, DType::kFloat16});
  ASSERT_FALSE(null);
  EXPECT_EQ(null.error().code(), ErrorCode::kInvalidArgument);
}

TEST(NpyFiles, WriteThenReadAndErrorsNameThePath) {
  const testing_support::TempDir dir("rvae_npy");
  const std::string path = dir.path("latents.npy");
  ASSERT_TRUE(write_npy(path, {kSixValues.data(), 24, {1, 6}, DType::kFloat32}));
  auto read = read_npy(path);
  ASSERT_TRUE(read) << read.error().what();
  EXPECT_EQ(read->shape(), (Shape{1, 6}));
  EXPECT_EQ(read->to_floats(), kSixValues);

  const std::uint16_t bf16[1] = {0};
  auto bad_write = write_npy(dir.path("other.npy"), {bf16, 2, {1}, DType::kBFloat16});
  ASSERT_FALSE(bad_write);
  EXPECT_EQ(bad_write.error().code(), ErrorCode::kInvalidArgument);

  const Bytes garbage = to_bytes("PK\x03\x04 not numpy");
  ASSERT_TRUE(write_file(path, garbage.data(), garbage.size()));
  auto corrupt = read_npy(path);
  ASSERT_FALSE(corrupt);
  EXPECT_EQ(corrupt.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(corrupt.error().message(), HasSubstr(path));
  EXPECT_THAT(corrupt.error().message(), HasSubstr("magic"));

  ASSERT_TRUE(std::filesystem::remove(std::filesystem::u8path(path)));
  auto missing = read_npy(path);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message(), HasSubstr(path));
}

TEST(NpyHostile, EveryTruncationIsDataLoss) {
  const Bytes file = npy_v1(kNumpyHeader2x3, floats_le(kSixValues));
  for (std::size_t n = 0; n < file.size(); ++n) {
    const Bytes prefix(file.begin(), file.begin() + static_cast<long>(n));
    auto result = parse_npy(n == 0 ? nullptr : prefix.data(), n);
    ASSERT_FALSE(result) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(result.error().code(), ErrorCode::kDataLoss) << n << ": " << result.error().what();
  }
}

TEST(NpyHostile, PreambleErrors) {
  EXPECT_THAT(parse(to_bytes(std::string("\x93NUMPX\x01\x00\x10\x00", 10))),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("magic")));
  EXPECT_THAT(parse(to_bytes(std::string("\x93NUMPY\x04\x00\x10\x00", 10))),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("version 4.0")));
  EXPECT_THAT(parse(to_bytes(std::string("\x93NUMPY\x01\x01\x10\x00", 10))),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("version 1.1")));
  // A 4 GiB header length in a short file.
  EXPECT_THAT(parse(to_bytes(std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff{}", 14))),
              IsError(ErrorCode::kDataLoss, HasSubstr("header needs 4294967307")));
  auto null = parse_npy(nullptr, 3);
  ASSERT_FALSE(null);
  EXPECT_EQ(null.error().code(), ErrorCode::kInvalidArgument);
}

TEST(NpyHostile, OversizedHeaderIsRejectedBeforeParsing) {
  const std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }" + std::string(1100000, ' ');
  EXPECT_THAT(parse(npy_v23(2, header + "\n", floats_le({1.0f}))),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("exceeds the limit")));
}

TEST(NpyHostile, HeaderGrammarErrors) {
  struct Case {
    std::string header;
    std::string fragment;
  };
  const Case cases[] = {
      {"'descr': '<f4'", "does not start with '{'"},
      {"{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}", "expects ':'"},
      {"{descr: '<f4', 'fortran_order': False, 'shape': (1,)}", "expects a quoted string"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", "not True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", "not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1)}", "not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1 2)}", "expects ',' or ')'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (x,)}", "expects an integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "unexpected key"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "'descr' twice"},
      {"{'descr': '<f4', 'fortran_order': False, 'fortran_order': False, 'shape': (1,)}",
       "'fortran_order' twice"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (1,)}", "'shape' twice"},
      {"{'descr': '<f4', 'fortran_order': False}", "lacks one of the keys"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", "text after"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", "expects ',' or '}'"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", "expects ',' or '}'"},
      {"{'descr': '<f\\4', 'fortran_order': False, 'shape': (1,)}", "escape"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", "structured"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "too large"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-4,)}", "negative dimension -4"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1)}",
       "more than 5 dimensions"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.header);
    EXPECT_THAT(parse_header(c.header, 4),
                IsError(ErrorCode::kInvalidArgument, HasSubstr(c.fragment)));
  }
  // Without the usual final newline, which the string check would stop at first.
  EXPECT_THAT(parse(npy_v1("{'descr': '<f4", {})),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("unterminated string")));
}

TEST(NpyHostile, UnsupportedContent) {
  struct Case {
    std::string descr;
    std::string order;
    std::string shape;
    std::string fragment;
  };
  const Case cases[] = {
      {">f4", "False", "(1,)", "big-endian"},
      {">f2", "False", "(1,)", "big-endian"},
      {"|O", "False", "(1,)", "object arrays"},
      {"<i8", "False", "(1,)", "'<i8' is not supported"},
      {"|b1", "False", "(1,)", "'|b1' is not supported"},
      {"<c8", "False", "(1,)", "'<c8' is not supported"},
      {"<f4", "True", "(1,)", "Fortran order"},
      {"<f4", "False", "()", "scalar"},
      {"<f4", "False", "(0, 3)", "no elements"},
      {"<f4", "False", "(1099511627776, 1099511627776)", "overflows"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fragment);
    EXPECT_THAT(parse_header("{'descr': '" + c.descr + "', 'fortran_order': " + c.order +
                                 ", 'shape': " + c.shape + ", }",
                             4),
                IsError(ErrorCode::kInvalidArgument, HasSubstr(c.fragment)));
  }
}

TEST(NpyHostile, BodyLengthMustMatchTheShape) {
  const std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  EXPECT_THAT(
      parse_header(header, 23),
      IsError(ErrorCode::kDataLoss, HasSubstr("body is 23 bytes, shape (2, 3) of '<f4' needs 24")));
  EXPECT_THAT(parse_header(header, 25),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("trailing bytes")));
  EXPECT_THAT(parse_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 8),
              IsError(ErrorCode::kDataLoss, HasSubstr("needs 16")));
}

TEST(NpyHostile, HugeClaimedArrayFailsFastWithoutAllocating) {
  // 10^12 float32 elements claimed by a file of under 200 bytes.
  const Bytes file = npy_v1(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }\n", Bytes(16, 0));
  const auto start = std::chrono::steady_clock::now();
  testing_support::reset_largest_allocation();
  auto result = parse(file);
  const std::size_t largest = testing_support::largest_allocation();
  EXPECT_THAT(result, IsError(ErrorCode::kDataLoss, HasSubstr("needs 4000000000000")));
  EXPECT_LT(largest, 4096u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

}  // namespace
}  // namespace rvae
