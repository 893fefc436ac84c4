#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol/open_inference.hpp"

namespace rvae::protocol::oip {
namespace {

struct Accepted {
  const char* url;
  const char* base;
  const char* model;
  const char* version;
  const char* query;
};

TEST(OipRoute, AcceptsModelPaths) {
  for (const Accepted& c : {
           Accepted{"http://localhost:8000/v2/models/vae", "http://localhost:8000", "vae", "", ""},
           Accepted{"http://localhost:8000/v2/models/vae/", "http://localhost:8000", "vae", "", ""},
           Accepted{"https://h.example/v2/models/sdxl_decoder/versions/3", "https://h.example",
                    "sdxl_decoder", "3", ""},
           Accepted{"https://h.example/v2/models/m/versions/12/", "https://h.example", "m", "12",
                    ""},
           Accepted{"http://127.0.0.1:1234/seldon/ns/dep/v2/models/my-model.v1_x",
                    "http://127.0.0.1:1234/seldon/ns/dep", "my-model.v1_x", "", ""},
           Accepted{"http://[::1]:8000/v2/models/vae?token=a/b&x=1", "http://[::1]:8000", "vae", "",
                    "token=a/b&x=1"},
           Accepted{"http://user:pw@host:81/v2/models/vae", "http://user:pw@host:81", "vae", "",
                    ""},
           Accepted{"http://host/v2/models/a%20b", "http://host", "a%20b", "", ""},
           Accepted{"http://host/v2/models/vae#frag", "http://host", "vae", "", ""},
           Accepted{"http://host/v2/models/vae?q=1#frag?x", "http://host", "vae", "", "q=1"},
           Accepted{"http://host/v2/models/versions", "http://host", "versions", "", ""},
           Accepted{"http://host/v2/models/v2/models/m", "http://host/v2/models", "m", "", ""},
       }) {
    SCOPED_TRACE(c.url);
    const auto route = parse_model_route(c.url);
    ASSERT_TRUE(route.has_value());
    EXPECT_EQ(route->base, c.base);
    EXPECT_EQ(route->model, c.model);
    EXPECT_EQ(route->version, c.version);
    EXPECT_EQ(route->query, c.query);
  }
}

TEST(OipRoute, RefusesOtherPaths) {
  for (const char* url : {
           "https://x2dmsqunjd6k9prw.us-east-1.aws.endpoints.huggingface.cloud/",
           "http://127.0.0.1:1234/sdxl/decode",
           "http://127.0.0.1:1234/",
           "http://127.0.0.1:1234",
           "http://host/v2/models",
           "http://host/v2/models/",
           "http://host/v2/models//",
           "http://host/v2/models/vae//",
           "http://host/v2/models/vae/infer",
           "http://host/v2/models/vae/ready",
           "http://host/v2/models/vae/versions/",
           "http://host/v2/models/vae/versions/one",
           "http://host/v2/models/vae/versions/-1",
           "http://host/V2/Models/vae",
           "http://host/v1/models/vae",
           "http://host/v2/models/..",
           "http://host/v2/models/.",
           "http://host/v2/models/a%2",
           "http://host/v2/models/a b",
           "http://host//v2/models/vae",
           "http://host/x//v2/models/vae",
           "http://host/predict?next=/v2/models/vae",
           "http://host/#/v2/models/vae",
           "/v2/models/vae",
           "v2/models/vae",
           "",
           "http://user@v2/models/x@host/",
       }) {
    SCOPED_TRACE(url);
    EXPECT_FALSE(parse_model_route(url).has_value());
  }
}

TEST(OipRoute, UrlsOfEachRoute) {
  auto route = parse_model_route("http://h:1/p/v2/models/vae/versions/2/?a=1&b=2");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->model_path(), "http://h:1/p/v2/models/vae/versions/2");
  EXPECT_EQ(route->metadata_url(), "http://h:1/p/v2/models/vae/versions/2?a=1&b=2");
  EXPECT_EQ(route->ready_url(), "http://h:1/p/v2/models/vae/versions/2/ready?a=1&b=2");
  EXPECT_EQ(route->infer_url(), "http://h:1/p/v2/models/vae/versions/2/infer?a=1&b=2");
  EXPECT_EQ(route->server_ready_url(), "http://h:1/p/v2/health/ready?a=1&b=2");

  route = parse_model_route("https://h/v2/models/m");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->metadata_url(), "https://h/v2/models/m");
  EXPECT_EQ(route->infer_url(), "https://h/v2/models/m/infer");
  EXPECT_EQ(route->ready_url(), "https://h/v2/models/m/ready");
  EXPECT_EQ(route->server_ready_url(), "https://h/v2/health/ready");
}

TEST(OipRoute, GetRequest) {
  const http::HttpRequest request = get_request();
  EXPECT_EQ(request.method, "GET");
  ASSERT_NE(request.header("Accept"), nullptr);
  EXPECT_EQ(*request.header("Accept"), "application/json");
  EXPECT_EQ(request.header("Content-Type"), nullptr);
  EXPECT_TRUE(request.body.empty());
}

}  // namespace
}  // namespace rvae::protocol::oip
