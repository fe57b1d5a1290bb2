// JWT verification: the cases an identity provider, a misconfiguration or an attacker produce.

#include "common/base64.h"
#include "egress/jwks.h"
#include "egress/jwt.h"
#include "tests/support/jwt_signer.h"

#include <gtest/gtest.h>

namespace causeway::egress {
namespace {

using testing::JwtSigner;

constexpr int64_t kNow = 1700000000;

nlohmann::json claims(int64_t exp = kNow + 300) {
  return {{"iss", "https://idp.example"},
          {"aud", "causeway"},
          {"sub", "acme-app"},
          {"jti", "tok-1"},
          {"exp", exp},
          {"iat", kNow}};
}

JwtExpectations expect() {
  JwtExpectations e;
  e.issuer = "https://idp.example";
  e.audience = "causeway";
  return e;
}

// Shared keys: RSA generation takes a noticeable fraction of a second.
class JwtTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    rsa_ = new JwtSigner(JwtSigner::Kind::kRs256, "rsa-1");
    ec_ = new JwtSigner(JwtSigner::Kind::kEs256, "ec-1");
    other_rsa_ = new JwtSigner(JwtSigner::Kind::kRs256, "rsa-1", 1);
    hs_ = new JwtSigner(JwtSigner::Kind::kHs256);
    jwks_ = new Jwks(*parseJwks(JwtSigner::jwks({rsa_, ec_})));
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
    delete other_rsa_;
    delete hs_;
    delete jwks_;
  }

  Result<JwtClaims> verify(const std::string& token, const JwtExpectations& e = expect(),
                           bool with_secret = false) {
    auto parsed = ParsedJwt::parse(token);
    if (!parsed) {
      return parsed.error();
    }
    JwtKeys keys;
    keys.jwks = jwks_;
    keys.hs256_secret = with_secret ? &hs_->secret() : nullptr;
    return parsed->verify(keys, e, kNow);
  }

  static JwtSigner* rsa_;
  static JwtSigner* ec_;
  static JwtSigner* other_rsa_;
  static JwtSigner* hs_;
  static Jwks* jwks_;
};

JwtSigner* JwtTest::rsa_ = nullptr;
JwtSigner* JwtTest::ec_ = nullptr;
JwtSigner* JwtTest::other_rsa_ = nullptr;
JwtSigner* JwtTest::hs_ = nullptr;
Jwks* JwtTest::jwks_ = nullptr;

TEST_F(JwtTest, Rs256TokenIsAccepted) {
  auto result = verify(rsa_->sign(claims()));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->subject, "acme-app");
  EXPECT_EQ(result->token_id, "tok-1");
  EXPECT_FALSE(result->products);
}

TEST_F(JwtTest, Es256TokenIsAccepted) {
  auto result = verify(ec_->sign(claims()));
  ASSERT_TRUE(result) << result.error().message;
}

TEST_F(JwtTest, Hs256NeedsTheSecret) {
  const std::string token = hs_->sign(claims());
  EXPECT_TRUE(verify(token, expect(), true));
  auto without = verify(token, expect(), false);
  ASSERT_FALSE(without);
  EXPECT_NE(without.error().message.find("HS256"), std::string::npos);
}

TEST_F(JwtTest, ExpiredTokenIsRefused) {
  auto result = verify(rsa_->sign(claims(kNow - 120)));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "the token has expired");
  // Within the clock skew it still passes.
  EXPECT_TRUE(verify(rsa_->sign(claims(kNow - 30))));
}

TEST_F(JwtTest, TokenWithoutExpiryIsRefused) {
  auto c = claims();
  c.erase("exp");
  auto result = verify(rsa_->sign(c));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("exp"), std::string::npos);
}

TEST_F(JwtTest, NotBeforeInTheFutureIsRefused) {
  auto c = claims();
  c["nbf"] = kNow + 600;
  auto result = verify(rsa_->sign(c));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("nbf"), std::string::npos);
}

TEST_F(JwtTest, WrongAudienceIsRefused) {
  auto c = claims();
  c["aud"] = "somebody-else";
  auto result = verify(rsa_->sign(c));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "wrong audience");
  c["aud"] = {"somebody-else", "causeway"};  // a list containing ours is fine
  EXPECT_TRUE(verify(rsa_->sign(c)));
}

TEST_F(JwtTest, WrongIssuerIsRefused) {
  auto c = claims();
  c["iss"] = "https://evil.example";
  auto result = verify(rsa_->sign(c));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "wrong issuer");
}

TEST_F(JwtTest, WrongKeyIsRefused) {
  // Same kid, another key: the signature does not verify.
  auto result = verify(other_rsa_->sign(claims()));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "bad signature");
}

TEST_F(JwtTest, AlgNoneIsRefused) {
  const std::string token =
      base64Url(R"({"alg":"none","typ":"JWT"})") + "." + base64Url(claims().dump()) + ".";
  auto result = verify(token);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("not accepted"), std::string::npos);
}

TEST_F(JwtTest, Hs256SignedWithThePublicKeyIsRefused) {
  // The classic confusion attack: HS256 "signed" with the RSA public key as the secret. With no
  // HS256 secret configured, HS256 is not an algorithm this partner accepts at all.
  JwtSigner attacker(JwtSigner::Kind::kHs256);
  auto result = verify(attacker.signWithHeader({{"alg", "HS256"}, {"kid", "rsa-1"}}, claims()));
  ASSERT_FALSE(result);
}

TEST_F(JwtTest, AlgorithmOfAnotherKeyTypeFindsNoKey) {
  // An RS256 header over an ES256 signature: only RSA keys are tried, and they fail.
  const std::string es = ec_->sign(claims());
  const std::string swapped =
      base64Url(R"({"alg":"RS256","kid":"ec-1"})") + es.substr(es.find('.'));
  EXPECT_FALSE(verify(swapped));
}

TEST_F(JwtTest, CriticalHeaderIsRefused) {
  auto result = verify(
      rsa_->signWithHeader({{"alg", "RS256"}, {"kid", "rsa-1"}, {"crit", {"exp"}}}, claims()));
  ASSERT_FALSE(result);
}

TEST_F(JwtTest, ProductsClaimListsWhatTheTokenMayRead) {
  auto c = claims();
  c["causeway_products"] = {"payments.authorized.v1"};
  auto result = verify(rsa_->sign(c));
  ASSERT_TRUE(result);
  ASSERT_TRUE(result->products);
  EXPECT_EQ(*result->products, std::vector<std::string>{"payments.authorized.v1"});
  // A space-separated string (the OAuth `scope` style) works as well.
  c["causeway_products"] = "a.v1 b.v1";
  result = verify(rsa_->sign(c));
  ASSERT_TRUE(result);
  EXPECT_EQ(*result->products, (std::vector<std::string>{"a.v1", "b.v1"}));
  c["causeway_products"] = 7;
  EXPECT_FALSE(verify(rsa_->sign(c)));
}

TEST_F(JwtTest, MalformedTokensAreRefusedWithoutEchoingThem) {
  for (const std::string& token : std::vector<std::string>{
           "", "a.b", "a.b.c.d", "!!!.e30.", base64Url("[]") + "." + base64Url("{}") + ".",
           base64Url("{}") + "." + base64Url("{}") + "."}) {
    auto parsed = ParsedJwt::parse(token);
    if (parsed) {
      EXPECT_FALSE(verify(token)) << token;
    } else if (!token.empty()) {
      EXPECT_EQ(parsed.error().message.find(token), std::string::npos);
    }
  }
}

TEST(JwksTest, SkipsKeysItCannotUseAndExplainsWhy) {
  JwtSigner rsa(JwtSigner::Kind::kRs256, "sig");
  nlohmann::json doc = {{"keys",
                         {rsa.jwk(),
                          {{"kty", "RSA"}, {"use", "enc"}, {"kid", "enc"}},
                          {{"kty", "EC"}, {"crv", "P-384"}, {"kid", "p384"}},
                          {{"kty", "oct"}, {"k", "abc"}}}}};
  auto jwks = parseJwks(doc.dump());
  ASSERT_TRUE(jwks) << jwks.error().message;
  EXPECT_EQ(jwks->keys.size(), 1u);
  EXPECT_EQ(jwks->skipped.size(), 3u);
}

TEST(JwksTest, NoUsableKeyIsAnError) {
  EXPECT_FALSE(parseJwks("{}"));
  EXPECT_FALSE(parseJwks("not json"));
  EXPECT_FALSE(parseJwks(R"({"keys":[]})"));
  // A P-256 point that is not on the curve.
  const std::string zeros = base64Url(std::string(32, '\x01'));
  auto bad = parseJwks(
      nlohmann::json{{"keys", {{{"kty", "EC"}, {"crv", "P-256"}, {"x", zeros}, {"y", zeros}}}}}
          .dump());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("curve"), std::string::npos);
}

TEST(JwksTest, ShortRsaKeysAreRefused) {
  const std::string n = base64Url(std::string(128, '\xff'));  // 1024 bits
  auto jwks =
      parseJwks(nlohmann::json{{"keys", {{{"kty", "RSA"}, {"n", n}, {"e", "AQAB"}}}}}.dump());
  ASSERT_FALSE(jwks);
  EXPECT_NE(jwks.error().message.find("2048"), std::string::npos);
}

} // namespace
} // namespace causeway::egress
