// Policies on Avro records: the derived Avro schema (avro_policy_schema.h) and the reader and
// re-encoder (avro_payload.h), through the policy stage as a link runs it.

#include "config/config_loader.h"
#include "pipeline/record.h"
#include "policies/avro_payload.h"
#include "policies/avro_policy_schema.h"
#include "policies/policy_runtime.h"
#include "policies/policy_stage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <string>

namespace causeway::policies {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr uint32_t kWriterId = 7;

const std::string kPaymentSchema = R"({"type": "record", "name": "Payment", "namespace": "acme",
  "doc": "kept",
  "fields": [
    {"name": "id", "type": "string"},
    {"name": "amount", "type": "long", "default": 0},
    {"name": "card", "type": {"type": "record", "name": "Card", "fields": [
      {"name": "number", "type": "string"},
      {"name": "cvv", "type": "int"}]}},
    {"name": "email", "type": ["null", "string"], "default": null},
    {"name": "score", "type": ["null", "double"], "default": null},
    {"name": "country", "type": "string"},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "created", "type": {"type": "long", "logicalType": "timestamp-millis"}}
  ]})";

// Avro binary encoding, for building records.
void putLong(int64_t v, std::string& out) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (z >= 0x80) {
    out.push_back(static_cast<char>((z & 0x7F) | 0x80));
    z >>= 7;
  }
  out.push_back(static_cast<char>(z));
}
void putString(std::string_view s, std::string& out) {
  putLong(static_cast<int64_t>(s.size()), out);
  out.append(s);
}
void putDouble(double d, std::string& out) {
  char b[8];
  std::memcpy(b, &d, 8);
  out.append(b, 8);
}
std::string prefix(uint32_t id) {
  return std::string{'\0', static_cast<char>(id >> 24), static_cast<char>(id >> 16),
                     static_cast<char>(id >> 8), static_cast<char>(id)};
}

struct Payment {
  std::string id = "p-1";
  int64_t amount = 1250;
  std::string card = "4111111111111111";
  int32_t cvv = 123;
  std::optional<std::string> email = "ann@example.com";
  std::optional<double> score;
  std::string country = "DE";
  std::vector<std::string> tags = {"a", "b"};
  int64_t created = 1700000000000;

  std::string encode(uint32_t id_in_prefix = kWriterId) const {
    std::string out = prefix(id_in_prefix);
    putString(id, out);
    putLong(amount, out);
    putString(card, out);
    putLong(cvv, out);
    if (email) {
      putLong(1, out);
      putString(*email, out);
    } else {
      putLong(0, out);
    }
    if (score) {
      putLong(1, out);
      putDouble(*score, out);
    } else {
      putLong(0, out);
    }
    putString(country, out);
    putLong(static_cast<int64_t>(tags.size()), out);
    for (const auto& t : tags) {
      putString(t, out);
    }
    putLong(0, out);
    putLong(created, out);
    return out;
  }
};

// Decodes a record written with the derived schema below (amount and cvv strings, email
// dropped, card.number masked, score nullable string), checking every byte is used.
struct Decoder {
  std::string_view bytes;
  size_t pos = 0;
  int64_t readLong() {
    uint64_t z = 0;
    for (int shift = 0;; shift += 7) {
      const auto b = static_cast<unsigned char>(bytes.at(pos++));
      z |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        break;
      }
    }
    return static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
  }
  std::string readString() {
    const auto n = static_cast<size_t>(readLong());
    std::string s(bytes.substr(pos, n));
    pos += n;
    return s;
  }
};

class PolicyAvroTest : public ::testing::Test {
protected:
  void build(const std::string& fields, const std::string& extra = "") {
    const std::string text =
        "registries:\n  sr: {url: \"http://127.0.0.1:1\"}\n"
        "clusters:\n  east: {bootstrap: \"127.0.0.1:1\", registry: sr}\n"
        "  west: {bootstrap: \"127.0.0.1:2\", registry: sr}\n"
        "policies:\n  acme:\n    topics: {allow: [\"payments\\\\..*\"]}\n"
        "    formats: {value: avro}\n    on_violation: skip\n" +
        extra + "    fields:\n" + fields +
        "links:\n  - {name: l1, source: east, target: west, topics: {include: "
        "[\"payments\\\\..*\"]}, policy: acme, schemas: {translate_ids: true}}\n";
    config::LoadResult loaded = config::loadConfigString(text, "test.yaml");
    ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].str());
    config_ = *loaded.config;
    std::vector<config::ConfigError> errors;
    runtime_ = PolicyRuntime::create(config_, errors);
    ASSERT_TRUE(runtime_) << (errors.empty() ? "" : errors[0].str());
    shapes_ = std::make_shared<AvroShapes>();
    auto stages = makePolicyStages(config_, config_.links[0], *runtime_, shapes_);
    ASSERT_TRUE(stages.ok()) << stages.error().message;
    stage_ = std::move((*stages)[0]);
  }

  // The shape a link's schema service hands over when it translates the writer's ID.
  AvroShapePtr learn(const std::string& writer_text, uint32_t id = kWriterId) {
    PolicyPtr policy = runtime_->policy("acme");
    auto shape = makeAvroShape(writer_text, {}, policy->rules(), policy->slots().size());
    EXPECT_TRUE(shape.ok()) << shape.error().message;
    shapes_->put("payments.authorized", id, *shape);
    return *shape;
  }

  // Runs one record; `translated` is the payload as the ID translation stage left it.
  pipeline::Verdict run(const std::string& source, const std::string* translated, std::string& out,
                        bool id_header = false) {
    pipeline::RecordView view;
    view.topic = "payments.authorized";
    view.value = std::string_view(source);
    const std::string id(4, '\0');
    if (id_header) {
      view.headers.push_back({"__value_schema_id", std::string_view(id)});
    }
    pipeline::Record record;
    record.reset(&view);
    if (translated != nullptr) {
      record.rewriteValue() = *translated;
    }
    pipeline::Verdict verdict = stage_->process(record);
    out = record.value() ? std::string(*record.value()) : "<null>";
    return verdict;
  }

  config::Config config_;
  std::unique_ptr<PolicyRuntime> runtime_;
  std::shared_ptr<AvroShapes> shapes_;
  pipeline::StagePtr stage_;
};

const std::string kRules = "      - {path: value.card.number, action: mask, keep_last: 4}\n"
                           "      - {path: value.amount, action: redact}\n"
                           "      - {path: value.email, action: drop}\n"
                           "      - {path: value.score, action: redact}\n"
                           "      - {path: \"value.tags[0]\", action: redact}\n";

TEST_F(PolicyAvroTest, TheDerivedSchemaSaysWhatEachRuleDoesAndKeepsTheRest) {
  build(kRules);
  AvroShapePtr shape = learn(kPaymentSchema);
  ASSERT_TRUE(shape->derived.problems.empty()) << shape->derived.problems[0];
  EXPECT_TRUE(shape->derived.changed);
  const json derived = json::parse(shape->derived.schema);
  EXPECT_EQ(derived["doc"], "kept");
  EXPECT_EQ(derived["namespace"], "acme");
  std::vector<std::string> names;
  for (const auto& f : derived["fields"]) {
    names.push_back(f["name"]);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"id", "amount", "card", "score", "country", "tags",
                                             "created"}));
  EXPECT_EQ(derived["fields"][1]["type"], "string");
  EXPECT_EQ(derived["fields"][1]["default"], "");  // a default of the new type
  EXPECT_EQ(derived["fields"][2]["type"]["fields"][0]["type"], "string");  // already a string
  EXPECT_EQ(derived["fields"][3]["type"], json::parse(R"(["null", "string"])"));
  EXPECT_TRUE(derived["fields"][3]["default"].is_null());  // null first: the default stays
  EXPECT_EQ(derived["fields"][6]["type"]["logicalType"], "timestamp-millis");
  // The derived schema is valid Avro.
  EXPECT_TRUE(schema::AvroModel::parse(shape->derived.schema).ok());
}

TEST_F(PolicyAvroTest, RecordsAreReEncodedForTheDerivedSchema) {
  build(kRules);
  learn(kPaymentSchema);
  Payment p;
  p.score = 0.75;
  const std::string source = p.encode();
  // The ID translation stage put the target's ID (of the derived schema) in front.
  const std::string translated = prefix(1001) + source.substr(5);
  std::string out;
  pipeline::Verdict verdict = run(source, &translated, out);
  ASSERT_EQ(verdict.outcome, pipeline::Outcome::kPass) << verdict.detail;
  ASSERT_EQ(out.substr(0, 5), prefix(1001));
  Decoder d{out, 5};
  EXPECT_EQ(d.readString(), "p-1");
  EXPECT_EQ(d.readString(), "[REDACTED]");        // amount: a long, now a string
  EXPECT_EQ(d.readString(), "************1111");  // card.number
  EXPECT_EQ(d.readLong(), 123);                   // card.cvv, untouched
  // email is gone; score: ["null", "string"], branch 1.
  EXPECT_EQ(d.readLong(), 1);
  EXPECT_EQ(d.readString(), "[REDACTED]");
  EXPECT_EQ(d.readString(), "DE");
  EXPECT_EQ(d.readLong(), 2);
  EXPECT_EQ(d.readString(), "[REDACTED]");  // tags[0]: strings stay strings
  EXPECT_EQ(d.readString(), "b");
  EXPECT_EQ(d.readLong(), 0);
  EXPECT_EQ(d.readLong(), 1700000000000);
  EXPECT_EQ(d.pos, out.size());
  EXPECT_EQ(out.find("4111111111111111"), std::string::npos);
  EXPECT_EQ(out.find("ann@example.com"), std::string::npos);
}

TEST_F(PolicyAvroTest, ANullInARetypedUnionIsWrittenAsTheDerivedNullBranch) {
  // The writer's null is branch 1; the derived union ["null", "string"] puts it first, so a
  // null the transform keeps is written again with the derived branch.
  build("      - {path: value.score, action: redact}\n");
  AvroShapePtr shape = learn(R"({"type": "record", "name": "S", "fields": [
      {"name": "score", "type": ["double", "null"]}, {"name": "n", "type": "int"}]})");
  EXPECT_EQ(json::parse(shape->derived.schema)["fields"][0]["type"],
            json::parse(R"(["null", "string"])"));
  std::string null_score = prefix(kWriterId);
  putLong(1, null_score);
  putLong(5, null_score);
  std::string out;
  ASSERT_EQ(run(null_score, nullptr, out).outcome, pipeline::Outcome::kPass);
  std::string expected = prefix(kWriterId);
  putLong(0, expected);
  putLong(5, expected);
  EXPECT_EQ(out, expected);

  std::string scored = prefix(kWriterId);
  putLong(0, scored);
  putDouble(0.5, scored);
  putLong(5, scored);
  ASSERT_EQ(run(scored, nullptr, out).outcome, pipeline::Outcome::kPass);
  expected = prefix(kWriterId);
  putLong(1, expected);
  putString("[REDACTED]", expected);
  putLong(5, expected);
  EXPECT_EQ(out, expected);
}

// What a review found, each a record that would not have fit its registered schema, or a
// value read with the wrong schema.
TEST_F(PolicyAvroTest, ReviewedCornersKeepEveryRecordInItsDerivedSchema) {
  // A named record used through Avro's null-namespace lookup ("Foo" inside namespace ns) is
  // shared: retyping its field for one use cannot be described.
  build("      - {path: value.a.x, action: mask}\n");
  AvroShapePtr shape = learn(R"({"type": "record", "name": "Root", "fields": [
      {"name": "a", "type": {"type": "record", "name": "Foo",
        "fields": [{"name": "x", "type": "long"}]}},
      {"name": "b", "type": {"type": "record", "name": "Bar", "namespace": "ns",
        "fields": [{"name": "f", "type": "Foo"}]}}]})");
  ASSERT_EQ(shape->derived.problems.size(), 1u);
  EXPECT_THAT(shape->derived.problems[0], HasSubstr("named record used in more than one place"));

  // A map block with its size in bytes: after an edit inside it, the header is written as the
  // count alone (the old size would be wrong).
  build("      - {path: value.tags.color, action: redact}\n");
  learn(R"({"type": "record", "name": "R", "fields": [
      {"name": "tags", "type": {"type": "map", "values": "string"}}]})");
  std::string sized = prefix(kWriterId);
  putLong(-1, sized);  // one item, then the block's size
  putLong(10, sized);
  putString("color", sized);
  putString("red", sized);
  putLong(0, sized);
  std::string out;
  ASSERT_EQ(run(sized, nullptr, out).outcome, pipeline::Outcome::kPass);
  std::string expected = prefix(kWriterId);
  putLong(1, expected);
  putString("color", expected);
  putString("[REDACTED]", expected);
  putLong(0, expected);
  EXPECT_EQ(out, expected);

  // A field of no bytes next to an edited one: refused, not written in the wrong place.
  build("      - {path: value.x, action: mask}\n      - {path: value.y, action: redact}\n");
  learn(R"({"type": "record", "name": "R", "fields": [
      {"name": "x", "type": "null"}, {"name": "y", "type": "string"}]})");
  std::string empty = prefix(kWriterId);
  putString("abc", empty);
  EXPECT_EQ(run(empty, nullptr, out).outcome, pipeline::Outcome::kDrop);  // on_violation: skip

  // A default holding the retyped field is rewritten with it; a uuid string becomes a plain
  // string (a masked value is no uuid); `set` on a field the writer lacks is a problem.
  build("      - {path: value.addr.zip, action: mask}\n"
        "      - {path: value.id, action: mask}\n"
        "      - {path: value.added, action: set, value: \"x\"}\n");
  shape = learn(R"({"type": "record", "name": "R", "fields": [
      {"name": "addr", "type": {"type": "record", "name": "A",
        "fields": [{"name": "zip", "type": "long"}]}, "default": {"zip": 123}},
      {"name": "id", "type": ["null", {"type": "string", "logicalType": "uuid"}]}]})");
  const json derived = json::parse(shape->derived.schema);
  EXPECT_EQ(derived["fields"][0]["default"], json::parse(R"({"zip": ""})"));
  EXPECT_EQ(derived["fields"][1]["type"], json::parse(R"(["null", "string"])"));
  ASSERT_EQ(shape->derived.problems.size(), 1u);
  EXPECT_THAT(shape->derived.problems[0], HasSubstr("value.added (set): the writer's schema has no "
                                                    "such field"));
}

TEST_F(PolicyAvroTest, TheWriterIsTheOneTheSourceRecordNamesOnItsTopic) {
  build("      - {path: value.name, action: redact}\n");
  learn(R"({"type": "record", "name": "P", "fields": [{"name": "name", "type": "string"}]})");
  std::string record = prefix(kWriterId);
  putString("Ann", record);
  std::string out;
  ASSERT_EQ(run(record, nullptr, out).outcome, pipeline::Outcome::kPass);
  // With the ID in a header, the payload is a bare datum: its first bytes are no ID, even when
  // they look like one.
  pipeline::Verdict header = run(record, nullptr, out, true);
  EXPECT_EQ(header.outcome, pipeline::Outcome::kDrop);
  EXPECT_EQ(header.reason, "unreadable-payload");
  // The same ID learnt for another topic only does not select a schema here.
  shapes_ = std::make_shared<AvroShapes>();
  shapes_->put(
      "other.topic", kWriterId,
      *makeAvroShape(
          R"({"type": "record", "name": "P", "fields": [{"name": "name", "type": "string"}]})", {},
          runtime_->policy("acme")->rules(), runtime_->policy("acme")->slots().size()));
  auto stages = makePolicyStages(config_, config_.links[0], *runtime_, shapes_);
  ASSERT_TRUE(stages.ok());
  stage_ = std::move((*stages)[0]);
  pipeline::Verdict v = run(record, nullptr, out);
  EXPECT_EQ(v.outcome, pipeline::Outcome::kDrop);
  EXPECT_EQ(v.reason, "unreadable-payload");

  // An int beyond 32 bits is no Avro int.
  build("      - {path: value.n, action: redact}\n");
  learn(R"({"type": "record", "name": "P", "fields": [{"name": "n", "type": "int"}]})");
  std::string big = prefix(kWriterId);
  putLong(int64_t{1} << 40, big);
  EXPECT_EQ(run(big, nullptr, out).outcome, pipeline::Outcome::kDrop);
}

TEST_F(PolicyAvroTest, FiltersSeeAvroValuesAndEnumsAsStrings) {
  build("      - {path: value.card.number, action: mask, keep_last: 4}\n",
        "    filter: 'value.amount >= 1000 and value.country in [\"DE\", \"AT\"] and "
        "value.tags[1] == \"b\"'\n");
  learn(kPaymentSchema);
  std::string out;
  Payment big;
  EXPECT_EQ(run(big.encode(), nullptr, out).outcome, pipeline::Outcome::kPass);
  Payment small;
  small.amount = 999;
  EXPECT_EQ(run(small.encode(), nullptr, out).outcome, pipeline::Outcome::kDrop);
  Payment elsewhere;
  elsewhere.country = "FR";
  EXPECT_EQ(run(elsewhere.encode(), nullptr, out).outcome, pipeline::Outcome::kDrop);
}

TEST_F(PolicyAvroTest, WhatCannotBeReadOrDescribedIsAViolationNamingIt) {
  build(kRules);
  std::string out;
  Payment p;
  // No shape yet for this writer ID.
  pipeline::Verdict v = run(p.encode(99), nullptr, out);
  EXPECT_EQ(v.outcome, pipeline::Outcome::kDrop);
  EXPECT_EQ(v.reason, "unreadable-payload");

  learn(kPaymentSchema);
  // A truncated datum.
  std::string cut = p.encode();
  cut.resize(cut.size() - 3);
  v = run(cut, nullptr, out);
  EXPECT_EQ(v.outcome, pipeline::Outcome::kDrop);
  // Bytes after the datum.
  v = run(p.encode() + "x", nullptr, out);
  EXPECT_EQ(v.outcome, pipeline::Outcome::kDrop);
  // Not framed for a registry.
  v = run("plain", nullptr, out);
  EXPECT_EQ(v.outcome, pipeline::Outcome::kDrop);

  // A named record used twice: retyping a field of one use cannot be described.
  const std::string shared = R"({"type": "record", "name": "P", "fields": [
      {"name": "card", "type": {"type": "record", "name": "Card", "fields": [
        {"name": "number", "type": "long"}]}},
      {"name": "backup", "type": "Card"}]})";
  build("      - {path: value.card.number, action: redact}\n");
  AvroShapePtr shape = learn(shared, 8);
  ASSERT_EQ(shape->derived.problems.size(), 1u);
  EXPECT_THAT(shape->derived.problems[0], HasSubstr("value.card.number (redact)"));
  std::string record = prefix(8);
  putLong(42, record);
  putLong(43, record);
  v = run(record, nullptr, out);
  EXPECT_EQ(v.outcome, pipeline::Outcome::kDrop);
  EXPECT_EQ(v.reason, "transform-failed");

  // Retyping an array's items for one element cannot be described either.
  AvroPolicySchema items = *deriveAvroSchema(R"({"type": "record", "name": "R", "fields": [
          {"name": "xs", "type": {"type": "array", "items": "long"}}]})",
                                             {}, runtime_->policy("acme")->rules(),
                                             runtime_->policy("acme")->slots().size());
  EXPECT_TRUE(items.problems.empty());  // the path is not in this schema: nothing to do
}

TEST_F(PolicyAvroTest, WriterSchemasWithReferencesAreReadPathsIntoReferencedTypesRefused) {
  // Address is another subject's schema (a schema reference); the rules on the writer's own
  // fields apply, a rule that would change the referenced type cannot.
  build("      - {path: value.name, action: redact}\n"
        "      - {path: value.home.street, action: redact}\n");
  const std::string address = R"({"type": "record", "name": "Address", "namespace": "acme",
      "fields": [{"name": "street", "type": "string"}]})";
  const std::string writer = R"({"type": "record", "name": "Person", "namespace": "acme",
      "fields": [{"name": "name", "type": "string"}, {"name": "home", "type": "Address"}]})";
  PolicyPtr policy = runtime_->policy("acme");
  auto shape = makeAvroShape(writer, {address}, policy->rules(), policy->slots().size());
  ASSERT_TRUE(shape.ok()) << shape.error().message;
  EXPECT_FALSE(makeAvroShape(writer, {}, policy->rules(), policy->slots().size()).ok());
  // A string stays a string: nothing to describe but the path into Address.
  ASSERT_EQ((*shape)->derived.problems.size(), 0u);
  shapes_->put("payments.authorized", kWriterId, *shape);
  std::string record = prefix(kWriterId);
  putString("Ann", record);
  putString("Main St 1", record);
  std::string out;
  ASSERT_EQ(run(record, nullptr, out).outcome, pipeline::Outcome::kPass);
  std::string expected = prefix(kWriterId);
  putString("[REDACTED]", expected);
  putString("[REDACTED]", expected);
  EXPECT_EQ(out, expected);

  // Dropping a field of the referenced type would change another subject's schema.
  build("      - {path: value.home.street, action: drop}\n");
  policy = runtime_->policy("acme");
  shape = makeAvroShape(writer, {address}, policy->rules(), policy->slots().size());
  ASSERT_TRUE(shape.ok());
  ASSERT_EQ((*shape)->derived.problems.size(), 1u);
  EXPECT_THAT(
      (*shape)->derived.problems[0],
      HasSubstr("value.home.street (drop): it would change a type from a schema reference"));
}

TEST_F(PolicyAvroTest, ConfigRefusesAvroPoliciesWithoutIdTranslationAndOnPartners) {
  const std::string text =
      "clusters:\n  east: {bootstrap: \"127.0.0.1:1\"}\n  west: {bootstrap: \"127.0.0.1:2\"}\n"
      "policies:\n  acme:\n    topics: {allow: [\".*\"]}\n    formats: {value: avro}\n"
      "    on_violation: skip\n"
      "links:\n  - {name: l1, source: east, target: west, topics: {include: [\"p\"]}, "
      "policy: acme}\n";
  config::LoadResult loaded = config::loadConfigString(text, "test.yaml");
  ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].str());
  std::vector<config::ConfigError> errors = checkConfig(*loaded.config);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].str(), HasSubstr("translate_ids"));
  EXPECT_EQ(errors[0].location.line, 10);  // the link's policy

  // The same for Protobuf.
  std::string proto = text;
  proto.replace(proto.find("value: avro"), 11, "value: protobuf");
  loaded = config::loadConfigString(proto, "test.yaml");
  ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].str());
  errors = checkConfig(*loaded.config);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].str(), HasSubstr("edits Protobuf records (formats.value: protobuf), which "
                                         "needs the link to translate schema IDs"));
}

}  // namespace
}  // namespace causeway::policies
