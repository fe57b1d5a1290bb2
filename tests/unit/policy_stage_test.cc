#include "config/config_loader.h"
#include "pipeline/record.h"
#include "policies/envelope.h"
#include "policies/json_payload.h"
#include "policies/policy_metrics.h"
#include "policies/policy_runtime.h"
#include "policies/policy_stage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

namespace causeway::policies {
namespace {

using pipeline::Outcome;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kAeadKeys =
    "2024:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
    "2025:f0e0d0c0b0a090807060504030201000f1e1d1c1b1a191817161514131211101\n";
constexpr std::string_view kTokenKeys =
    "t1:1111111111111111111111111111111111111111111111111111111111111112\n";
constexpr std::string_view kHashSecret = "0123456789abcdef0123456789abcdef-acme-hash-secret\n";

// A record as a test builds it: owns its bytes.
struct TestRecord {
  std::string topic = "payments.authorized";
  std::optional<std::string> key = std::string("k1");
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int64_t timestamp = 1700000000000;

  pipeline::RecordView view() const {
    pipeline::RecordView v;
    v.topic = topic;
    v.partition = 0;
    v.offset = 7;
    if (key) {
      v.key = std::string_view(*key);
    }
    if (value) {
      v.value = std::string_view(*value);
    }
    v.timestamp = timestamp;
    for (const auto& [name, val] : headers) {
      v.headers.push_back(
          {name, val ? std::optional<std::string_view>(*val) : std::optional<std::string_view>()});
    }
    return v;
  }
};

struct Outcome_ {
  pipeline::Verdict verdict;
  std::optional<std::string> value;
  std::optional<std::string> key;
  std::vector<std::string> headers;
};

class PolicyStageTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("policy_stage_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    write("acme.aead", kAeadKeys);
    write("acme.siv", kTokenKeys);
    write("acme.hmac", kHashSecret);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& name, std::string_view text) { std::ofstream(dir_ / name) << text; }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A configuration with one policy (`body`, indented under `policies: {acme: ...}`) and a
  // link using it. $DIR is replaced by the key directory.
  std::string yaml(const std::string& body) const {
    std::string text = "clusters:\n  east: {bootstrap: \"127.0.0.1:1\"}\n"
                       "  west: {bootstrap: \"127.0.0.1:2\"}\n"
                       "policies:\n  acme:\n" +
                       body +
                       "links:\n  - {name: l1, source: east, target: west, "
                       "topics: {include: [\"payments\\\\..*\"]}, policy: acme}\n";
    for (size_t at = text.find("$DIR"); at != std::string::npos; at = text.find("$DIR")) {
      text.replace(at, 4, dir_.string());
    }
    return text;
  }

  // Loads `body` as the policy and builds its stage.
  void build(const std::string& body) {
    config::LoadResult loaded = config::loadConfigString(yaml(body), "test.yaml");
    ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].str());
    config_ = *loaded.config;
    std::vector<config::ConfigError> errors;
    runtime_ = PolicyRuntime::create(config_, errors);
    ASSERT_TRUE(runtime_) << (errors.empty() ? "" : errors[0].str());
    auto stages = makePolicyStages(config_, config_.links[0], *runtime_);
    ASSERT_TRUE(stages.ok()) << stages.error().message;
    ASSERT_EQ(stages->size(), 1u);
    stage_ = std::move((*stages)[0]);
  }

  Outcome_ run(const TestRecord& input) {
    const pipeline::RecordView view = input.view();
    pipeline::Record record;
    record.reset(&view);
    Outcome_ out;
    out.verdict = stage_->process(record);
    if (auto v = record.value()) {
      out.value = std::string(*v);
    }
    if (auto k = record.key()) {
      out.key = std::string(*k);
    }
    record.forEachHeader([&](std::string_view name, std::optional<std::string_view> value) {
      out.headers.push_back(std::string(name) + "=" + (value ? std::string(*value) : "<null>"));
    });
    return out;
  }

  PolicyCountsSnapshot counts() { return runtime_->snapshot().at(0); }

  std::filesystem::path dir_;
  config::Config config_;
  std::unique_ptr<PolicyRuntime> runtime_;
  pipeline::StagePtr stage_;
};

TEST_F(PolicyStageTest, TopicsNotAllowedAreDroppedByDefault) {
  build("    topics: {allow: [\"payments\\\\.authorized\", \"orders\\\\..*\"]}\n");
  TestRecord record;
  record.value = R"({"a": 1})";
  EXPECT_EQ(run(record).verdict.outcome, Outcome::kPass);
  record.topic = "orders.eu";
  EXPECT_EQ(run(record).verdict.outcome, Outcome::kPass);
  record.topic = "payments.refunded";
  const Outcome_ out = run(record);
  EXPECT_EQ(out.verdict.outcome, Outcome::kDrop);
  EXPECT_EQ(out.verdict.reason, "not-allowed");
  EXPECT_EQ(out.verdict.rule, "acme.topics");
  record.topic = "payments.authorized.v2";  // a full match is needed
  EXPECT_EQ(run(record).verdict.outcome, Outcome::kDrop);
  EXPECT_TRUE(runtime_->allowsTopic(config_.links[0], "orders.us"));
  EXPECT_FALSE(runtime_->allowsTopic(config_.links[0], "customers"));
  EXPECT_EQ(counts().not_allowed, 2u);
  EXPECT_EQ(counts().passed, 2u);
}

TEST_F(PolicyStageTest, AnEmptyAllowListDeniesEverything) {
  build("    topics: {allow: []}\n");
  TestRecord record;
  record.value = "{}";
  EXPECT_EQ(run(record).verdict.reason, "not-allowed");
}

TEST_F(PolicyStageTest, FilterDropsRecordsAsKnownSkips) {
  build("    topics: {allow: [\".*\"]}\n"
        "    filter: 'value.country in [\"DE\", \"AT\"] and value.amount >= 100 and "
        "not exists(headers.test)'\n");
  TestRecord record;
  record.value = R"({"country": "DE", "amount": 250})";
  EXPECT_EQ(run(record).verdict.outcome, Outcome::kPass);
  record.value = R"({"country": "FR", "amount": 250})";
  Outcome_ out = run(record);
  EXPECT_EQ(out.verdict.outcome, Outcome::kDrop);
  EXPECT_EQ(out.verdict.reason, "filtered");
  EXPECT_EQ(out.verdict.rule, "acme.filter");
  record.value = R"({"country": "AT", "amount": 250})";
  record.headers = {{"test", "1"}};
  EXPECT_EQ(run(record).verdict.reason, "filtered");
  EXPECT_EQ(counts().filtered, 2u);
}

TEST_F(PolicyStageTest, EveryTransformOnJson) {
  build("    topics: {allow: [\".*\"]}\n"
        "    fields:\n"
        "      - {path: value.card.number, action: mask, keep_last: 4}\n"
        "      - {path: value.amount, action: mask, keep_last: 1, mask_char: \"#\"}\n"
        "      - {path: value.customer.email, action: hash, secret_file: $DIR/acme.hmac}\n"
        "      - {path: value.customer.iban, action: encrypt, key_file: $DIR/acme.aead}\n"
        "      - {path: value.customer.id, action: tokenize, key_file: $DIR/acme.siv}\n"
        "      - {path: value.internal_notes, action: drop}\n"
        "      - {path: value.comment, action: redact}\n"
        "      - {path: value.note2, action: redact, token: \"***\"}\n"
        "      - {path: value.description, action: truncate, max: 3}\n"
        "      - {path: value.source, action: set, value: partner-feed}\n"
        "      - {path: value.version, action: set, value: 2}\n"
        "      - {path: value.flags.test, action: set, value: false}\n");
  TestRecord record;
  record.value = R"({"card": {"number": "4111111111111111"}, "amount": 12345,
    "customer": {"email": "ann@example.com", "iban": "DE89370400440532013000", "id": 42},
    "internal_notes": "call back", "comment": "vip", "note2": null,
    "description": "h\u00e9llo", "source": "core", "flags": {}})";
  const Outcome_ out = run(record);
  ASSERT_EQ(out.verdict.outcome, Outcome::kPass) << out.verdict.detail;
  ASSERT_TRUE(out.value);
  ASSERT_TRUE(isValidJson(*out.value)) << *out.value;
  const std::string& v = *out.value;
  EXPECT_THAT(v, HasSubstr(R"("number": "************1111")"));
  EXPECT_THAT(v, HasSubstr(R"("amount": "####5")"));
  EXPECT_THAT(v, HasSubstr(R"("comment": "[REDACTED]")"));
  EXPECT_THAT(v, HasSubstr(R"("note2": null)"));  // null stays null
  EXPECT_THAT(v, HasSubstr("\"description\": \"h\xc3\xa9l\""));
  EXPECT_THAT(v, HasSubstr(R"("source": "partner-feed")"));
  EXPECT_THAT(v, HasSubstr(R"("version":2)"));  // added: the field was missing
  EXPECT_THAT(v, HasSubstr(R"("flags": {"test":false})"));
  EXPECT_THAT(v, Not(HasSubstr("internal_notes")));
  // hash: HMAC-SHA256 of the value's text, hex.
  std::string secret(kHashSecret);
  secret.pop_back();
  auto mac = HmacSha256::create(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(secret.data()), secret.size()));
  uint8_t digest[kSha256Bytes];
  ASSERT_TRUE(mac->compute("ann@example.com", digest));
  std::string hex;
  appendHex(digest, hex);
  EXPECT_THAT(v, HasSubstr("\"email\": \"" + hex + "\""));
  // encrypt: an envelope with the newest key id that decrypts to the IBAN.
  const size_t at = v.find("cwenc:");
  ASSERT_NE(at, std::string::npos);
  const std::string envelope = v.substr(at, v.find('"', at) - at);
  EnvelopeOpener opener(std::make_shared<const KeySet>(*parseKeySet(kAeadKeys, "k")));
  auto opened = opener.open(envelope);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->plaintext, "DE89370400440532013000");
  EXPECT_EQ(opened->key_id, "2025");
  // tokenize: a token with the key id.
  EXPECT_THAT(v, HasSubstr("\"id\": \"tok_t1_"));
  const PolicyCountsSnapshot c = counts();
  EXPECT_EQ(c.records_rewritten, 1u);
  for (const RuleCountsSnapshot& rule : c.rules) {
    if (rule.rule == "value.note2:redact") {
      EXPECT_EQ(rule.kept, 1u);
    } else {
      EXPECT_EQ(rule.applied, 1u) << rule.rule;
    }
  }
}

TEST_F(PolicyStageTest, TokenizeIsDeterministicAndJoinsAcrossRecords) {
  build("    topics: {allow: [\".*\"]}\n"
        "    fields: [{path: value.id, action: tokenize, key_file: $DIR/acme.siv}]\n");
  auto tokenOf = [&](const std::string& value, const std::string& topic) {
    TestRecord record;
    record.topic = topic;
    record.value = value;
    return *run(record).value;
  };
  const std::string a = tokenOf(R"({"id": "C-1001"})", "orders");
  EXPECT_EQ(a, tokenOf(R"({"id": "C-1001"})", "payments"));
  EXPECT_NE(a, tokenOf(R"({"id": "C-1002"})", "orders"));
  EXPECT_THAT(a, Not(HasSubstr("C-1001")));
}

TEST_F(PolicyStageTest, HeaderAllowAndDenyListsKeepCausewayHeaders) {
  build("    topics: {allow: [\".*\"]}\n"
        "    headers: {allow: [traceparent, content-type, secret], deny: [secret]}\n");
  TestRecord record;
  record.value = "{}";
  record.headers = {{"traceparent", "00-1"}, {"x-internal", "a"},
                    {"secret", "s"},         {"causeway-origin", "east"},
                    {"x-internal", "b"},     {"content-type", std::nullopt}};
  const Outcome_ out = run(record);
  EXPECT_EQ(out.headers, (std::vector<std::string>{"traceparent=00-1", "causeway-origin=east",
                                                   "content-type=<null>"}));
  EXPECT_EQ(counts().headers_removed, 2u);
}

TEST_F(PolicyStageTest, ViolationsFollowOnViolation) {
  for (const std::string on : {"dlq", "skip", "stop"}) {
    build("    topics: {allow: [\".*\"]}\n"
          "    on_violation: " +
          on +
          "\n"
          "    fields:\n"
          "      - {path: value.card, action: mask}\n"
          "      - {path: value.account, action: drop, required: true}\n");
    TestRecord record;
    record.value = R"({"card": "4111111111111111", "account": 1, "x": 1,})";  // trailing comma
    Outcome_ out = run(record);
    const Outcome expected = on == "dlq"    ? Outcome::kDeadLetter
                             : on == "skip" ? Outcome::kDrop
                                            : Outcome::kStop;
    EXPECT_EQ(out.verdict.outcome, expected) << on;
    EXPECT_EQ(out.verdict.reason, "unreadable-payload");
    EXPECT_EQ(out.verdict.rule, "acme.payload");
    if (on != "skip") {
      EXPECT_THAT(out.verdict.detail, HasSubstr("value: invalid JSON at byte 50"));
    }
    EXPECT_THAT(out.verdict.detail, Not(HasSubstr("4111")));

    record.value = R"({"card": {"number": "4111111111111111"}, "account": 1})";
    out = run(record);
    EXPECT_EQ(out.verdict.reason, "transform-failed");
    EXPECT_EQ(out.verdict.rule, "value.card:mask");
    if (on != "skip") {
      EXPECT_EQ(out.verdict.detail, "value.card: mask does not apply to an object");
    }

    record.value = R"({"card": "4111111111111111"})";
    out = run(record);
    EXPECT_EQ(out.verdict.reason, "missing-field");
    EXPECT_EQ(out.verdict.rule, "value.account:drop");
    EXPECT_THAT(out.verdict.detail, Not(HasSubstr("4111")));

    // A tombstone is not a violation: deletes pass.
    record.value.reset();
    EXPECT_EQ(run(record).verdict.outcome, Outcome::kPass);
    const PolicyCountsSnapshot c = counts();
    EXPECT_EQ(c.unreadable + c.transform_failed + c.missing_field, 3u);
  }
}

TEST_F(PolicyStageTest, ShadowModeCountsButChangesNothing) {
  build("    topics: {allow: [\"payments\\\\..*\"]}\n"
        "    mode: shadow\n"
        "    filter: 'value.amount >= 100'\n"
        "    headers: {deny: [x-internal]}\n"
        "    fields:\n"
        "      - {path: value.card, action: mask}\n"
        "      - {path: value.iban, action: encrypt, key_file: $DIR/acme.aead}\n");
  TestRecord record;
  record.value = R"({"amount": 5, "card": "4111111111111111", "iban": "DE89"})";
  record.headers = {{"x-internal", "1"}};
  Outcome_ out = run(record);
  EXPECT_EQ(out.verdict.outcome, Outcome::kPass);
  EXPECT_EQ(out.value, record.value);
  EXPECT_EQ(out.headers, (std::vector<std::string>{"x-internal=1"}));
  record.topic = "other";
  out = run(record);
  EXPECT_EQ(out.verdict.outcome, Outcome::kPass);
  EXPECT_EQ(out.value, record.value);
  record.topic = "payments.x";
  record.value = "not json";
  EXPECT_EQ(run(record).verdict.outcome, Outcome::kPass);
  const PolicyCountsSnapshot c = counts();
  EXPECT_TRUE(c.shadow);
  EXPECT_EQ(c.records, 3u);
  EXPECT_EQ(c.filtered, 1u);
  EXPECT_EQ(c.not_allowed, 1u);
  EXPECT_EQ(c.unreadable, 1u);
  EXPECT_EQ(c.dead_lettered, 1u);  // what enforce mode would have done
  EXPECT_EQ(c.headers_removed, 1u);
  EXPECT_EQ(c.records_rewritten, 0u);
  EXPECT_EQ(c.rules[0].applied, 1u);  // counted although nothing changed
}

TEST_F(PolicyStageTest, NoProtectedValueInOutputVerdictsOrAuditLines) {
  build("    topics: {allow: [\"payments\\\\..*\"]}\n"
        "    filter: 'value.amount >= 100'\n"
        "    fields:\n"
        "      - {path: value.card.number, action: mask, keep_last: 4}\n"
        "      - {path: value.customer.email, action: hash, secret_file: $DIR/acme.hmac}\n"
        "      - {path: value.customer.iban, action: encrypt, key_file: $DIR/acme.aead}\n"
        "      - {path: value.customer.id, action: tokenize, key_file: $DIR/acme.siv}\n"
        "      - {path: value.internal_notes, action: drop}\n"
        "      - {path: value.comment, action: redact}\n"
        "    audit: {file: $DIR/audit.jsonl, interval: 1h}\n");
  const std::vector<std::string> secrets = {"5500005555555559",       "bob@example.org",
                                            "GB29NWBK60161331926819", "CUST-77-XYZ",
                                            "do not share",           "rude remark"};
  const std::string full =
      R"({"amount": 500, "card": {"number": "5500005555555559"}, "customer": {"email": )"
      R"("bob@example.org", "iban": "GB29NWBK60161331926819", "id": "CUST-77-XYZ"},)"
      R"( "internal_notes": "do not share", "comment": "rude remark"})";
  std::vector<Outcome_> outs;
  TestRecord record;
  record.value = full;
  outs.push_back(run(record));                     // passes, transformed
  record.value = full.substr(0, full.size() - 1);  // unreadable
  outs.push_back(run(record));
  record.value = R"({"amount": 500, "card": {"number": "5500005555555559"}, "comment": )"
                 R"({"text": "rude remark"}, "customer": {"email": ["bob@example.org"]}})";
  outs.push_back(run(record));  // hash on an array: a failed transform
  record.value = R"({"amount": 1, "card": {"number": "5500005555555559"}})";
  outs.push_back(run(record));  // filtered
  runtime_->flushAudit();
  std::ifstream audit(path("audit.jsonl"));
  std::stringstream audit_text;
  audit_text << audit.rdbuf();
  ASSERT_THAT(audit_text.str(), HasSubstr("\"records\":4"));
  for (const Outcome_& out : outs) {
    for (const std::string& secret : secrets) {
      if (out.verdict.outcome == Outcome::kPass) {
        EXPECT_THAT(*out.value, Not(HasSubstr(secret)));
      }
      EXPECT_THAT(out.verdict.detail, Not(HasSubstr(secret)));
      EXPECT_THAT(out.verdict.rule, Not(HasSubstr(secret)));
      EXPECT_THAT(audit_text.str(), Not(HasSubstr(secret)));
    }
  }
  EXPECT_EQ(outs[0].verdict.outcome, Outcome::kPass);
  EXPECT_EQ(outs[1].verdict.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(outs[2].verdict.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(outs[3].verdict.outcome, Outcome::kDrop);
}

TEST_F(PolicyStageTest, AuditLinesAggregateCountsPerWindow) {
  build("    topics: {allow: [\"payments\\\\..*\"]}\n"
        "    filter: 'value.ok'\n"
        "    fields: [{path: value.card, action: mask}]\n"
        "    audit: {file: $DIR/audit.jsonl, interval: 1h}\n");
  TestRecord record;
  record.value = R"({"ok": true, "card": "4111"})";
  run(record);
  run(record);
  record.value = R"({"ok": false})";
  run(record);
  runtime_->flushAudit();
  runtime_->flushAudit();  // a quiet window writes nothing
  record.topic = "nope";
  run(record);
  runtime_->flushAudit();
  std::ifstream audit(path("audit.jsonl"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(audit, line);) {
    lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr(R"("policy":"acme","link":"l1","mode":"enforce")"));
  EXPECT_THAT(lines[0], HasSubstr(R"("records":3,"passed":2,"not_allowed":0,"filtered":1)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("rules":{"value.card:mask":{"applied":2,"kept":0,)"
                                  R"("absent":0,"failed":0}})"));
  EXPECT_THAT(lines[1], HasSubstr(R"("records":1,"passed":0,"not_allowed":1)"));
}

TEST_F(PolicyStageTest, JsonKeysCanBeFilteredAndTransformed) {
  build("    topics: {allow: [\".*\"]}\n"
        "    formats: {key: json}\n"
        "    filter: 'key.region == \"eu\"'\n"
        "    fields: [{path: key.user, action: redact}]\n");
  TestRecord record;
  record.key = R"({"region": "eu", "user": "ann"})";
  record.value = "{}";
  const Outcome_ out = run(record);
  EXPECT_EQ(out.verdict.outcome, Outcome::kPass);
  EXPECT_EQ(out.key, R"({"region": "eu", "user": "[REDACTED]"})");
  record.key = R"({"region": "us"})";
  EXPECT_EQ(run(record).verdict.reason, "filtered");
}

TEST_F(PolicyStageTest, CountersRenderAsPrometheusSeries) {
  build("    topics: {allow: [\"payments\\\\..*\"]}\n"
        "    fields: [{path: value.card, action: mask}]\n");
  TestRecord record;
  record.value = R"({"card": "4111111111111111"})";
  run(record);
  record.topic = "other";
  run(record);
  monitoring::ExpositionWriter writer;
  addPolicyMetrics(writer, runtime_->snapshot());
  const std::string text = *writer.render();
  EXPECT_THAT(text, HasSubstr("causeway_policy_records_total{link=\"l1\",policy=\"acme\","
                              "mode=\"enforce\",outcome=\"passed\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("outcome=\"not_allowed\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("causeway_policy_field_transforms_total{link=\"l1\",policy=\"acme\","
                              "mode=\"enforce\",rule=\"value.card:mask\",result=\"applied\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("4111")));
}

}  // namespace
}  // namespace causeway::policies
