// Request heads as egress parses them off the network.

#include "egress/http_request.h"

#include <gtest/gtest.h>

namespace causeway::egress {
namespace {

HttpRequest ok(std::string_view text) {
  auto parsed = parseRequestHead(text);
  EXPECT_TRUE(std::holds_alternative<HttpRequest>(parsed));
  return std::holds_alternative<HttpRequest>(parsed) ? std::get<HttpRequest>(parsed)
                                                     : HttpRequest{};
}

int error(std::string_view text) {
  auto parsed = parseRequestHead(text);
  return std::holds_alternative<HttpParseError>(parsed) ? std::get<HttpParseError>(parsed).status
                                                        : 0;
}

TEST(HttpRequestTest, ParsesPathQueryAndHeaders) {
  const auto r =
      ok("GET /v1/products/a%2Eb/events?from=2024-05-01T12%3A00%3A00Z&filter=x+y "
         "HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer abc \r\nX-A: 1\r\nx-a: 2\r\n\r\n");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/v1/products/a.b/events");
  EXPECT_EQ(*r.param("from"), "2024-05-01T12:00:00Z");
  EXPECT_EQ(*r.param("filter"), "x y");
  EXPECT_EQ(*r.header("authorization"), "Bearer abc");
  EXPECT_EQ(*r.header("x-a"), "1, 2");
}

TEST(HttpRequestTest, WaitsForTheWholeHead) {
  EXPECT_TRUE(std::holds_alternative<NeedMore>(parseRequestHead("GET / HTTP/1.1\r\nHost: h\r\n")));
}

TEST(HttpRequestTest, RefusesWhatItCannotServe) {
  EXPECT_EQ(error("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(error("GET /\r\n\r\n"), 400);
  EXPECT_EQ(error("GET / HTTP/1.1\r\n\r\n"), 400) << "no Host";
  EXPECT_EQ(error("GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error("GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error("GET /%00 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n"), 400);
  EXPECT_EQ(error("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n"),
            400);
  EXPECT_EQ(error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"), 400);
  EXPECT_EQ(error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
  EXPECT_EQ(error("GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n"), 414);
  EXPECT_EQ(error("GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(70000, 'a')), 431);
}

} // namespace
} // namespace causeway::egress
