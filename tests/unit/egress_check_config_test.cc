// egress::checkConfig: the files a configuration names, checked where the setting is written.

#include "config/config_loader.h"
#include "egress/egress_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace causeway::egress {
namespace {

using ::testing::HasSubstr;

TEST(EgressCheckConfigTest, ReportsUnreadableAndInvalidFilesAtTheirSettings) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("causeway-egress-check-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "acme.tokens") << "acme-1 0123456789abcdef-shared\n";
  std::ofstream(dir / "globex.tokens") << "globex-1 0123456789abcdef-shared\n";
  std::ofstream(dir / "short.key") << "too-short\n";
  std::ofstream(dir / "bad.jwks") << "{\"keys\": []}";
  const std::string d = dir.string();
  const std::string yaml =
      "clusters:\n  east: {bootstrap: \"127.0.0.1:1\"}\n"         // 1-2
      "products:\n  - {name: p.v1, source: east, topics: [t]}\n"  // 3-4
      "partners:\n"                                               // 5
      "  acme:\n    products: [p.v1]\n"                           // 6-7
      "    auth: {tokens_file: " +
      d +
      "/acme.tokens, jwt: {issuer: i, "
      "audience: a, jwks_file: " +
      d +
      "/bad.jwks}}\n"                      // 8
      "  globex:\n    products: [p.v1]\n"  // 9-10
      "    auth: {tokens_file: " +
      d +
      "/globex.tokens}\n"                 // 11
      "egress:\n  listen: 127.0.0.1:0\n"  // 12-13
      "  resume_token_secret_file: " +
      d +
      "/short.key\n"  // 14
      "  tls: {cert_file: " +
      d + "/none.pem, key_file: k}\n";  // 15
  auto loaded = config::loadConfigString(yaml, "egress.yaml");
  ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].str());
  const auto errors = checkConfig(*loaded.config);
  std::string all;
  for (const auto& e : errors) {
    all += e.str() + "\n";
  }
  ASSERT_EQ(errors.size(), 4u) << all;
  EXPECT_THAT(all, HasSubstr("egress.yaml:8:"));
  EXPECT_THAT(all, HasSubstr("jwt.jwks_file: JWKS file"));
  EXPECT_THAT(all, HasSubstr("egress.yaml:11:"));
  EXPECT_THAT(all, HasSubstr("is also a token of partner 'acme'"));
  EXPECT_THAT(all, HasSubstr("egress.yaml:14:"));
  EXPECT_THAT(all, HasSubstr("less than 32 bytes"));
  EXPECT_THAT(all, HasSubstr("egress.yaml:15:"));
  EXPECT_THAT(all, HasSubstr("tls.cert_file"));
  EXPECT_EQ(all.find("0123456789abcdef"), std::string::npos) << "no token in messages";
  std::filesystem::remove_all(dir);
}

} // namespace
} // namespace causeway::egress
