// Resume tokens: they round-trip, are bound to their product, and any change is detected.

#include "common/base64.h"
#include "egress/resume_token.h"

#include <gtest/gtest.h>

#include <variant>

namespace causeway::egress {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef";

std::vector<TokenPosition> positions() {
  const uint32_t a = topicTag("payments.authorized");
  const uint32_t b = topicTag("payments.settled");
  std::vector<TokenPosition> out = {{a, 0, 17}, {a, 1, 0}, {a, 2, 123456789012}, {b, 0, 5}};
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    return std::pair(x.topic_tag, x.partition) < std::pair(y.topic_tag, y.partition);
  });
  return out;
}

TEST(ResumeTokenTest, RoundTripsEveryPartitionsNextOffset) {
  const ResumeTokenCodec codec(kSecret);
  const std::string token = codec.encode("payments.authorized.v1", positions());
  auto decoded = codec.decode("payments.authorized.v1", token);
  ASSERT_TRUE(std::holds_alternative<std::vector<TokenPosition>>(decoded))
      << std::get<TokenError>(decoded).message;
  EXPECT_EQ(std::get<std::vector<TokenPosition>>(decoded), positions());
  // URL- and header-safe: base64url without padding.
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
}

TEST(ResumeTokenTest, EmptyPositionsRoundTrip) {
  const ResumeTokenCodec codec(kSecret);
  auto decoded = codec.decode("p", codec.encode("p", {}));
  ASSERT_TRUE(std::holds_alternative<std::vector<TokenPosition>>(decoded));
  EXPECT_TRUE(std::get<std::vector<TokenPosition>>(decoded).empty());
}

TEST(ResumeTokenTest, SamePositionsGiveTheSameToken) {
  const ResumeTokenCodec codec(kSecret);
  EXPECT_EQ(codec.encode("p", positions()), codec.encode("p", positions()));
  // And another worker with the same secret reads it (restart, another replica).
  const ResumeTokenCodec other(kSecret);
  EXPECT_TRUE(std::holds_alternative<std::vector<TokenPosition>>(
      other.decode("p", codec.encode("p", positions()))));
}

TEST(ResumeTokenTest, TokenOfAnotherProductIsRefused) {
  const ResumeTokenCodec codec(kSecret);
  const std::string token = codec.encode("payments.authorized.v1", positions());
  auto decoded = codec.decode("orders.placed.v1", token);
  ASSERT_TRUE(std::holds_alternative<TokenError>(decoded));
  EXPECT_EQ(std::get<TokenError>(decoded).problem, TokenProblem::kOtherProduct);
}

TEST(ResumeTokenTest, EveryFlippedBitIsDetected) {
  const ResumeTokenCodec codec(kSecret);
  const std::string token = codec.encode("p", positions());
  std::string bytes = *decodeBase64Url(token);
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string changed = bytes;
      changed[i] = static_cast<char>(changed[i] ^ (1 << bit));
      auto decoded = codec.decode("p", base64Url(changed));
      ASSERT_TRUE(std::holds_alternative<TokenError>(decoded)) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(ResumeTokenTest, TamperedOffsetFailsTheIntegrityCheck) {
  const ResumeTokenCodec codec(kSecret);
  // A well-formed token for other positions, with the MAC of the original.
  auto original = *decodeBase64Url(codec.encode("p", positions()));
  auto other_positions = positions();
  other_positions[0].next_offset = 0;
  auto forged = *decodeBase64Url(codec.encode("p", other_positions));
  forged.replace(forged.size() - 16, 16, original.substr(original.size() - 16));
  auto decoded = codec.decode("p", base64Url(forged));
  ASSERT_TRUE(std::holds_alternative<TokenError>(decoded));
  EXPECT_EQ(std::get<TokenError>(decoded).problem, TokenProblem::kBadSignature);
}

TEST(ResumeTokenTest, TokenOfAnotherSecretIsRefused) {
  const ResumeTokenCodec a(kSecret);
  const ResumeTokenCodec b("another-secret-another-secret-xx");
  auto decoded = b.decode("p", a.encode("p", positions()));
  ASSERT_TRUE(std::holds_alternative<TokenError>(decoded));
  EXPECT_EQ(std::get<TokenError>(decoded).problem, TokenProblem::kBadSignature);
}

TEST(ResumeTokenTest, GarbageIsMalformed) {
  const ResumeTokenCodec codec(kSecret);
  for (const std::string& token :
       std::vector<std::string>{"", "x", "not a token", "AAAA", "====", std::string(40, 'A')}) {
    auto decoded = codec.decode("p", token);
    ASSERT_TRUE(std::holds_alternative<TokenError>(decoded)) << token;
  }
}

TEST(ResumeTokenTest, TruncatedTokenIsRefused) {
  const ResumeTokenCodec codec(kSecret);
  const std::string token = codec.encode("p", positions());
  for (size_t n = 0; n < token.size(); ++n) {
    EXPECT_TRUE(std::holds_alternative<TokenError>(codec.decode("p", token.substr(0, n))));
  }
}

TEST(Base64Test, UrlAlphabetRoundTripsAndIsStrict) {
  for (const std::string& bytes : std::vector<std::string>{
           "", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00", 3)}) {
    EXPECT_EQ(decodeBase64Url(base64Url(bytes)), bytes);
  }
  EXPECT_EQ(base64Url("\xfb\xff"), "-_8");
  EXPECT_FALSE(decodeBase64Url("Zm9v="));  // padding
  EXPECT_FALSE(decodeBase64Url("Zm9v+"));  // standard alphabet
  EXPECT_FALSE(decodeBase64Url("Zh"));     // leftover bits set ("Zg" is canonical)
  EXPECT_EQ(decodeBase64Url("Zg"), "f");
  std::string standard;
  appendBase64(standard, "fo");
  EXPECT_EQ(standard, "Zm8=");
}

} // namespace
} // namespace causeway::egress
