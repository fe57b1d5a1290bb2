// Partner authentication: tokens files (rotation without restart), JWTs per partner, and what
// the caller is told.

#include "config/config_loader.h"
#include "egress/partner_auth.h"
#include "tests/support/jwt_signer.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace causeway::egress {
namespace {

using testing::JwtSigner;

void writeFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  std::filesystem::rename(tmp, path);  // as an operator rotating a secret would
}

class PartnerAuthTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("causeway-partner-auth-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    writeFile(path("acme.tokens"),
              "# acme's tokens\nacme-main 0123456789abcdef-acme\n"
              "fedcba9876543210-acme-2\n");
    writeFile(path("globex.tokens"), "globex-1 0123456789abcdef-globex\n");
    writeFile(path("idp.jwks"), JwtSigner::jwks({&signer_}));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  config::Config config() {
    config::Config c;
    config::PartnerConfig acme;
    acme.name = "acme";
    acme.products = {"a.v1", "b.v1"};
    acme.auth.tokens_file = path("acme.tokens");
    config::PartnerJwtConfig jwt;
    jwt.issuer = "https://idp.example";
    jwt.audience = "causeway-acme";
    jwt.jwks_file = path("idp.jwks");
    acme.auth.jwt = jwt;
    c.partners["acme"] = acme;
    config::PartnerConfig globex;
    globex.name = "globex";
    globex.products = {"a.v1"};
    globex.auth.tokens_file = path("globex.tokens");
    c.partners["globex"] = globex;
    return c;
  }

  std::filesystem::path dir_;
  static inline JwtSigner signer_{JwtSigner::Kind::kEs256, "idp-1"};
};

TEST_F(PartnerAuthTest, TokenNamesItsPartnerAndId) {
  auto auth = PartnerAuth::create(config());
  ASSERT_TRUE(auth) << auth.error().message;
  auto id = (*auth)->authenticate("Bearer 0123456789abcdef-acme", unixSeconds());
  ASSERT_TRUE(std::holds_alternative<Identity>(id));
  EXPECT_EQ(std::get<Identity>(id).partner, "acme");
  EXPECT_EQ(std::get<Identity>(id).token_id, "acme-main");
  EXPECT_EQ(std::get<Identity>(id).method, "token");
  // A token without an ID is named by a hash prefix, never by itself.
  id = (*auth)->authenticate("bearer fedcba9876543210-acme-2", unixSeconds());
  ASSERT_TRUE(std::holds_alternative<Identity>(id));
  EXPECT_EQ(std::get<Identity>(id).token_id.rfind("sha256:", 0), 0u);
  id = (*auth)->authenticate("Bearer 0123456789abcdef-globex", unixSeconds());
  ASSERT_TRUE(std::holds_alternative<Identity>(id));
  EXPECT_EQ(std::get<Identity>(id).partner, "globex");
}

TEST_F(PartnerAuthTest, MissingAndUnknownCredentialsAreTellApart) {
  auto auth = *PartnerAuth::create(config());
  auto missing = auth->authenticate(std::nullopt, unixSeconds());
  ASSERT_TRUE(std::holds_alternative<AuthError>(missing));
  EXPECT_EQ(std::get<AuthError>(missing).problem, AuthProblem::kMissing);
  auto unknown = auth->authenticate("Bearer not-a-known-token-at-all", unixSeconds());
  ASSERT_TRUE(std::holds_alternative<AuthError>(unknown));
  EXPECT_EQ(std::get<AuthError>(unknown).problem, AuthProblem::kInvalid);
  EXPECT_EQ(std::get<AuthError>(unknown).message.find("not-a-known"), std::string::npos);
  auto basic = auth->authenticate("Basic YWxhZGRpbjpvcGVuc2VzYW1l", unixSeconds());
  ASSERT_TRUE(std::holds_alternative<AuthError>(basic));
}

TEST_F(PartnerAuthTest, RotatedTokensFileTakesEffectWithoutRestart) {
  auto auth = *PartnerAuth::create(config());
  writeFile(path("acme.tokens"), "acme-new 0123456789abcdef-acme-new\n");
  auto fresh = auth->authenticate("Bearer 0123456789abcdef-acme-new", unixSeconds());
  ASSERT_TRUE(std::holds_alternative<Identity>(fresh));
  EXPECT_EQ(std::get<Identity>(fresh).token_id, "acme-new");
  auto old = auth->authenticate("Bearer 0123456789abcdef-acme", unixSeconds());
  EXPECT_TRUE(std::holds_alternative<AuthError>(old));
  // A broken file keeps the tokens in force.
  writeFile(path("acme.tokens"), "short\n");
  EXPECT_TRUE(std::holds_alternative<Identity>(
      auth->authenticate("Bearer 0123456789abcdef-acme-new", unixSeconds())));
}

TEST_F(PartnerAuthTest, JwtNamesThePartnerByIssuerAndAudience) {
  auto auth = *PartnerAuth::create(config());
  const std::string token = signer_.sign({{"iss", "https://idp.example"},
                                          {"aud", "causeway-acme"},
                                          {"sub", "acme-dashboard"},
                                          {"exp", unixSeconds() + 300},
                                          {"causeway_products", {"a.v1"}}});
  auto id = auth->authenticate("Bearer " + token, unixSeconds());
  ASSERT_TRUE(std::holds_alternative<Identity>(id)) << std::get<AuthError>(id).message;
  const Identity& identity = std::get<Identity>(id);
  EXPECT_EQ(identity.partner, "acme");
  EXPECT_EQ(identity.method, "jwt");
  EXPECT_EQ(identity.token_id, "sub:acme-dashboard");
  EXPECT_TRUE(identity.tokenAllows("a.v1"));
  EXPECT_FALSE(identity.tokenAllows("b.v1"));
  // Another audience names no partner.
  const std::string other = signer_.sign(
      {{"iss", "https://idp.example"}, {"aud", "causeway-globex"}, {"exp", unixSeconds() + 300}});
  EXPECT_TRUE(
      std::holds_alternative<AuthError>(auth->authenticate("Bearer " + other, unixSeconds())));
}

TEST_F(PartnerAuthTest, UnreadableFilesFailCreationNamingThePartner) {
  auto c = config();
  c.partners["globex"].auth.tokens_file = path("missing.tokens");
  auto auth = PartnerAuth::create(c);
  ASSERT_FALSE(auth);
  EXPECT_NE(auth.error().message.find("partner 'globex'"), std::string::npos);
}

TEST(PartnerTokensTest, FileFormat) {
  auto tokens =
      parsePartnerTokens("\n# comment\n  id-1   0123456789abcdef \n0123456789abcdefX\n", "f");
  ASSERT_TRUE(tokens) << tokens.error().message;
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].id, "id-1");
  auto short_token = parsePartnerTokens("id short\n", "f");
  ASSERT_FALSE(short_token);
  EXPECT_NE(short_token.error().message.find("line 1"), std::string::npos);
  EXPECT_EQ(short_token.error().message.find("short"), short_token.error().message.find("shorter"));
  EXPECT_FALSE(parsePartnerTokens("a b c\n", "f"));
  EXPECT_FALSE(parsePartnerTokens("# only a comment\n", "f"));
  EXPECT_FALSE(parsePartnerTokens("0123456789abcdef\n0123456789abcdef\n", "f"));
}

} // namespace
} // namespace causeway::egress
