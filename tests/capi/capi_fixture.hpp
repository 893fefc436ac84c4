// What the C API tests share: a reference endpoint, a client, latents, and owners that free
// what the C API returns (so a failing assertion does not leak).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rvae/rvae.h"
#include "rvae/testing/reference_endpoint.hpp"

namespace rvae_capi_test {

struct ErrorDeleter {
  void operator()(rvae_error* e) const { rvae_error_free(e); }
};
using ErrorPtr = std::unique_ptr<rvae_error, ErrorDeleter>;

struct ResultDeleter {
  void operator()(rvae_decode_result* r) const { rvae_decode_result_free(r); }
};
using ResultPtr = std::unique_ptr<rvae_decode_result, ResultDeleter>;

/// float32 latents of one shape, filled with a small ramp so decodes are not constant.
struct Latents {
  explicit Latents(std::vector<std::int64_t> dims) : shape(std::move(dims)) {
    std::size_t n = 1;
    for (std::int64_t d : shape)
      n *= static_cast<std::size_t>(d);
    values.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      values[i] = static_cast<float>(i % 7) * 0.1f - 0.3f;
  }
  rvae_tensor_view view() const {
    return rvae_tensor_view{values.data(), shape.data(), static_cast<int>(shape.size()),
                            RVAE_DTYPE_FLOAT32};
  }
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};

class CapiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(endpoint_.start());
    rvae_client_params params;
    rvae_client_params_init(&params);
    params.token_from_environment = 0;
    params.max_attempts = 1;  // failures are reported at once, not retried
    rvae_error* err = nullptr;
    client_ = rvae_client_new(&params, &err);
    ASSERT_NE(client_, nullptr) << rvae_error_message(err);
    ASSERT_EQ(err, nullptr);
  }
  void TearDown() override { rvae_client_free(client_); }

  std::string url(const std::string& path) const { return endpoint_.url(path); }

  rvae::reference::ReferenceEndpoint endpoint_;
  rvae_client* client_ = nullptr;
};

/// Stores an int that is none of the enum's values, as a C or FFI caller could.
template <typename Enum>
void store_raw(Enum* field, int value) {
  static_assert(sizeof(Enum) == sizeof(int), "C enums are int-sized here");
  std::memcpy(field, &value, sizeof value);
}

/// Expects `status` with an error of the same code whose message contains `fragment`; frees the
/// error. `raw` is taken by reference so that it is read after the call that sets it (argument
/// evaluation order is unspecified).
inline void expect_error(int status, rvae_error*& raw, int expected, const std::string& fragment) {
  ErrorPtr err(raw);
  raw = nullptr;
  EXPECT_EQ(status, expected) << rvae_status_name(status);
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(rvae_error_code(err.get()), expected);
  EXPECT_NE(std::string(rvae_error_message(err.get())).find(fragment), std::string::npos)
      << rvae_error_message(err.get());
}

}  // namespace rvae_capi_test
