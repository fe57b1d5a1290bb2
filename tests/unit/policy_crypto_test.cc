#include "policies/envelope.h"
#include "policies/key_material.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <unistd.h>

namespace causeway::policies {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kKey1 =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr std::string_view kKey2 =
    "f0e0d0c0b0a090807060504030201000f1e1d1c1b1a191817161514131211101";

std::shared_ptr<const KeySet> keys(std::string_view text) {
  Result<KeySet> parsed = parseKeySet(text, "test keys");
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  return std::make_shared<const KeySet>(std::move(*parsed));
}

TEST(PolicyCrypto, HmacSha256MatchesRfc4231) {
  // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
  const std::string key = "Jefe";
  auto mac = HmacSha256::create(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
  ASSERT_TRUE(mac.ok());
  uint8_t out[kSha256Bytes];
  // Twice: the prepared key is reused between values.
  for (int i = 0; i < 2; ++i) {
    const std::string_view parts[] = {"what do ya want ", "for nothing?"};
    ASSERT_TRUE(mac->compute(parts, out));
    std::string hex;
    appendHex(out, hex);
    EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
}

TEST(PolicyCrypto, Base64UrlRoundTripsAndRefusesOtherText) {
  for (size_t n = 0; n < 40; ++n) {
    std::string bytes;
    for (size_t i = 0; i < n; ++i) {
      bytes += static_cast<char>(i * 37 + 250);
    }
    std::string text;
    appendBase64Url(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
        text);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    std::string back;
    ASSERT_TRUE(decodeBase64Url(text, back)) << text;
    EXPECT_EQ(back, bytes);
  }
  std::string out;
  EXPECT_FALSE(decodeBase64Url("ab+c", out));
  EXPECT_FALSE(decodeBase64Url("a", out));
}

TEST(PolicyCrypto, KeySetsParseWithTheLastKeyActive) {
  auto set = keys("# acme\n2024-01:" + std::string(kKey1) + "\n2025-01:" + std::string(kKey2) +
                  "  # current\n");
  ASSERT_EQ(set->keys().size(), 2u);
  EXPECT_EQ(set->active().id, "2025-01");
  EXPECT_NE(set->find("2024-01"), nullptr);
  EXPECT_EQ(set->find("nope"), nullptr);
  // Separated by commas, as in an environment variable.
  EXPECT_EQ(keys("a:" + std::string(kKey1) + ",b:" + std::string(kKey2))->active().id, "b");
}

TEST(PolicyCrypto, BadKeySetsAreRefusedWithoutShowingTheKey) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "no key"},
      {std::string(kKey1), "expected ID:HEX"},
      {"k1:abcd", "has 4 hex digits"},
      {"k1:" + std::string(63, 'a') + "x", "is not hex"},
      {"k1:" + std::string(64, '0'), "placeholder"},
      {"k 1:" + std::string(kKey1), "expected ID:HEX"},
      {"k_1:" + std::string(kKey1), "a key id is"},
      {"k1:" + std::string(kKey1) + "\nk1:" + std::string(kKey2), "line 2: key id 'k1' is listed"},
  };
  for (const Case& c : cases) {
    Result<KeySet> parsed = parseKeySet(c.text, "key file /k");
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_THAT(parsed.error().message, HasSubstr(c.message)) << c.text;
    EXPECT_THAT(parsed.error().message, Not(HasSubstr(std::string(kKey1))));
    EXPECT_THAT(parsed.error().message, Not(HasSubstr("abcd")));
  }
}

TEST(PolicyCrypto, KeysComeFromFilesOrEnvironmentVariables) {
  const std::string path = ::testing::TempDir() + "/policy_keys_" + std::to_string(getpid());
  { std::ofstream(path) << "k1:" << kKey1 << "\n"; }
  EXPECT_EQ(loadKeySet(KeyLocation{path, ""})->active().id, "k1");
  std::remove(path.c_str());
  Result<KeySet> missing = loadKeySet(KeyLocation{path, ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("cannot read key file " + path));

  setenv("CAUSEWAY_TEST_POLICY_KEYS", ("env1:" + std::string(kKey2)).c_str(), 1);
  EXPECT_EQ(loadKeySet(KeyLocation{"", "CAUSEWAY_TEST_POLICY_KEYS"})->active().id, "env1");
  unsetenv("CAUSEWAY_TEST_POLICY_KEYS");
  EXPECT_THAT(loadKeySet(KeyLocation{"", "CAUSEWAY_TEST_POLICY_KEYS"}).error().message,
              HasSubstr("is not set"));

  EXPECT_TRUE(parseSecret(std::string(32, 's') + "\n", "s").ok());
  EXPECT_THAT(parseSecret("short\n", "secret file /s").error().message,
              HasSubstr("secret file /s: the secret has 5 bytes; at least 32"));
}

TEST(PolicyEnvelope, EncryptDecryptRoundTripOfEveryType) {
  auto set = keys("k1:" + std::string(kKey1));
  auto sealer = EnvelopeSealer::create(set);
  ASSERT_TRUE(sealer.ok());
  EnvelopeOpener opener(set);
  for (PlainType type : {PlainType::kString, PlainType::kNumber, PlainType::kBool, PlainType::kJson,
                         PlainType::kBytes}) {
    for (std::string plaintext :
         {std::string(""), std::string("DE89 3704 0044 0532 0130 00"), std::string(1000, '\xff')}) {
      std::string envelope;
      ASSERT_TRUE(sealer->seal(type, plaintext, envelope));
      EXPECT_TRUE(looksLikeEnvelope(envelope));
      if (plaintext.size() > 4) {
        EXPECT_EQ(envelope.find(plaintext), std::string::npos);
      }
      Result<Opened> opened = opener.open(envelope);
      ASSERT_TRUE(opened.ok()) << opened.error().message;
      EXPECT_EQ(opened->plaintext, plaintext);
      EXPECT_EQ(opened->type, type);
      EXPECT_EQ(opened->key_id, "k1");
    }
  }
}

TEST(PolicyEnvelope, ANewNonceEveryTime) {
  auto set = keys("k1:" + std::string(kKey1));
  auto sealer = EnvelopeSealer::create(set);
  std::string a;
  std::string b;
  ASSERT_TRUE(sealer->seal(PlainType::kString, "same", a));
  ASSERT_TRUE(sealer->seal(PlainType::kString, "same", b));
  EXPECT_NE(a, b);
}

TEST(PolicyEnvelope, KeyRotationDecryptsWithAnOlderKeyId) {
  // Encrypted while k-old was the active key...
  auto before = keys("k-old:" + std::string(kKey1));
  std::string old_envelope;
  ASSERT_TRUE(EnvelopeSealer::create(before)->seal(PlainType::kString, "iban", old_envelope));
  // ...then k-new was appended: new values use k-new, old ones still open.
  auto after = keys("k-old:" + std::string(kKey1) + "\nk-new:" + std::string(kKey2));
  std::string new_envelope;
  ASSERT_TRUE(EnvelopeSealer::create(after)->seal(PlainType::kString, "iban", new_envelope));
  EnvelopeOpener opener(after);
  EXPECT_EQ(opener.open(old_envelope)->key_id, "k-old");
  EXPECT_EQ(opener.open(old_envelope)->plaintext, "iban");
  EXPECT_EQ(opener.open(new_envelope)->key_id, "k-new");
  // A key file without the old key names the missing id.
  EnvelopeOpener only_new(keys("k-new:" + std::string(kKey2)));
  EXPECT_THAT(only_new.open(old_envelope).error().message, HasSubstr("key id 'k-old'"));
}

TEST(PolicyEnvelope, TamperingAndWrongKeysAreDetected) {
  auto set = keys("k1:" + std::string(kKey1));
  std::string envelope;
  ASSERT_TRUE(EnvelopeSealer::create(set)->seal(PlainType::kString, "secret value", envelope));
  std::string binary;
  ASSERT_TRUE(decodeBase64Url(envelope.substr(kEnvelopePrefix.size()), binary));
  EnvelopeOpener opener(set);
  // Flip each byte in turn: header (AAD), nonce, ciphertext and tag are all covered.
  for (size_t i = 0; i < binary.size(); ++i) {
    std::string altered = binary;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    std::string text(kEnvelopePrefix);
    appendBase64Url(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(altered.data()), altered.size()),
        text);
    EXPECT_FALSE(opener.open(text).ok()) << "byte " << i;
  }
  EnvelopeOpener wrong(keys("k1:" + std::string(kKey2)));
  EXPECT_THAT(wrong.open(envelope).error().message, HasSubstr("does not decrypt"));
  EXPECT_FALSE(opener.open("cwenc:").ok());
  EXPECT_FALSE(opener.open("cwenc:!!").ok());
  EXPECT_FALSE(opener.open("plain").ok());
}

}  // namespace
}  // namespace causeway::policies
