#include "config/config_loader.h"
#include "policies/policy_runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace causeway::policies {
namespace {

using ::testing::HasSubstr;

// Lines 1-5; a policy body starts on line 6 (under "  acme:" on line 5).
constexpr std::string_view kHead = "clusters:\n  east: {bootstrap: \"127.0.0.1:1\"}\n"
                                   "  west: {bootstrap: \"127.0.0.1:2\"}\n"
                                   "policies:\n  acme:\n";
constexpr std::string_view kTail =
    "links:\n  - {name: l1, source: east, target: west, topics: {include: [\"orders\\\\..*\"]}, "
    "policy: acme, dlq: {cluster: source}}\n";

config::LoadResult load(const std::string& body) {
  return config::loadConfigString(std::string(kHead) + body + std::string(kTail), "p.yaml");
}

std::string errorsOf(const config::LoadResult& result) {
  std::string out;
  for (const auto& e : result.errors) {
    out += e.str() + "\n";
  }
  return out;
}

// The single load error, as "line:col: message".
std::string loadError(const std::string& body) {
  const config::LoadResult result = load(body);
  EXPECT_EQ(result.errors.size(), 1u) << errorsOf(result);
  if (result.errors.empty()) {
    return "";
  }
  const auto& e = result.errors[0];
  return std::to_string(e.location.line) + ":" + std::to_string(e.location.column) + ": " +
         e.message;
}

// Loads (must succeed), then the single checkConfig error as "line:col: message".
std::string checkError(const std::string& body) {
  const config::LoadResult result = load(body);
  EXPECT_TRUE(result.ok()) << errorsOf(result);
  if (!result.ok()) {
    return "";
  }
  const auto errors = checkConfig(*result.config);
  EXPECT_EQ(errors.size(), 1u);
  if (errors.empty()) {
    return "";
  }
  return std::to_string(errors[0].location.line) + ":" + std::to_string(errors[0].location.column) +
         ": " + errors[0].message;
}

TEST(PolicyConfig, TheIssueShapeLoads) {
  setenv("CAUSEWAY_TEST_ACME_HMAC", "0123456789abcdef0123456789abcdef0123", 1);
  const config::LoadResult result = load(
      "    topics: {allow: [\"payments\\\\.authorized\", \"orders\\\\..*\"]}\n"
      "    filter: 'value.country in [\"DE\", \"AT\"] and value.amount >= 100'\n"
      "    fields:\n"
      "      - {path: value.card.number, action: mask, keep_last: 4}\n"
      "      - {path: value.customer.email, action: hash, secret_env: CAUSEWAY_TEST_ACME_HMAC}\n"
      "      - {path: value.internal_notes, action: drop}\n"
      "      - {path: value.description, action: truncate, max: 64}\n"
      "      - {path: value.v, action: set, value: \"2\"}\n"
      "    headers: {allow: [\"traceparent\", \"content-type\"]}\n"
      "    on_violation: skip\n"
      "    mode: shadow\n");
  ASSERT_TRUE(result.ok()) << errorsOf(result);
  const config::PolicyConfig& p = result.config->policies.at("acme");
  EXPECT_EQ(p.topics_allow.size(), 2u);
  ASSERT_TRUE(p.filter);
  EXPECT_EQ(p.filter->at(0).line, 7);
  EXPECT_EQ(p.filter->at(0).column, 14);  // one column after the quote
  ASSERT_EQ(p.fields.size(), 5u);
  EXPECT_EQ(p.fields[0].keep_last, 4u);
  EXPECT_EQ(p.fields[1].key.env, "CAUSEWAY_TEST_ACME_HMAC");
  EXPECT_EQ(p.fields[3].max, 64u);
  EXPECT_EQ(p.fields[4].value_kind, config::ConstantKind::kString);  // quoted
  EXPECT_TRUE(p.headers_allow_set);
  EXPECT_EQ(p.on_violation, config::OnViolation::kSkip);
  EXPECT_EQ(p.mode, config::PolicyMode::kShadow);
  EXPECT_EQ(result.config->links[0].policy, "acme");
  EXPECT_TRUE(checkConfig(*result.config).empty());
  unsetenv("CAUSEWAY_TEST_ACME_HMAC");
}

TEST(PolicyConfig, LoadErrorsSayWhereAndWhat) {
  EXPECT_EQ(loadError("    filter: 'true'\n"), "5:3: policies.acme: missing required key 'topics' "
                                               "(the topics this policy lets through, as {allow: "
                                               "[regex, ...]}; every other topic is denied)");
  EXPECT_THAT(loadError("    topics: {allow: []}\n    filtr: 'true'\n"),
              HasSubstr("7:5: policies.acme: unknown key 'filtr'; did you mean 'filter'?"));
  EXPECT_THAT(loadError("    topics: {allow: []}\n"
                        "    fields: [{path: value.a, action: drop, keep_last: 2}]\n"),
              HasSubstr("7:44: policies.acme.fields[0]: 'keep_last' applies to mask, not to drop"));
  EXPECT_THAT(loadError("    topics: {allow: []}\n"
                        "    fields: [{path: value.a, action: encrypt}]\n"),
              HasSubstr("missing key_file (or key_env): keys are read from a file or an "
                        "environment variable, never the YAML"));
  EXPECT_THAT(loadError("    topics: {allow: []}\n"
                        "    fields: [{path: value.a, action: hash, secret_file: /a, "
                        "secret_env: B}]\n"),
              HasSubstr("set either secret_file or secret_env, not both"));
  EXPECT_THAT(loadError("    topics: {allow: []}\n"
                        "    fields: [{path: value.a, action: mask, mask_char: \"ab\"}]\n"),
              HasSubstr("mask_char is one printable ASCII character"));
  EXPECT_THAT(loadError("    topics: {allow: []}\n    fields: [{path: value.a, action: mask2}]\n"),
              HasSubstr("7:38: policies.acme.fields[0].action: unknown value 'mask2'; did you "
                        "mean 'mask'?"));
  EXPECT_THAT(loadError("    topics: {allow: []}\n    fields: [{path: value.a, action: set}]\n"),
              HasSubstr("missing required key 'value'"));
  EXPECT_THAT(loadError("    topics: {allow: []}\n    formats: {value: xml}\n"),
              HasSubstr("unknown value 'xml'"));
  EXPECT_THAT(loadError("    topics: {allow: [\"(\"]}\n"), HasSubstr("invalid regex"));
}

TEST(PolicyConfig, FilterErrorsPointAtTheTokenInTheFile) {
  // Single-quoted: the value starts one column after the quote.
  EXPECT_EQ(checkError("    topics: {allow: []}\n    filter: 'value.a == 1 and value.b = 2'\n"),
            "7:39: policies.acme: filter: '=' is not an operator; use '==' to compare");
  // '' inside single quotes is one character of the value.
  EXPECT_EQ(checkError("    topics: {allow: []}\n    filter: 'value.a == ''x'' and x'\n"),
            "7:35: policies.acme: filter: unknown field 'x' (a field starts with key, value, "
            "headers, timestamp, topic, partition or offset)");
  // Double-quoted: escapes are two columns for one character.
  EXPECT_EQ(checkError("    topics: {allow: []}\n    filter: \"value.a == \\\"x\\\" or # \"\n"),
            "7:34: policies.acme: filter: unexpected character '#'");
  // Plain.
  EXPECT_EQ(checkError("    topics: {allow: []}\n    filter: value.a == 1 or timestamp.x\n"),
            "7:38: policies.acme: filter: timestamp has no fields");
  // A block scalar over several lines.
  EXPECT_EQ(checkError("    topics: {allow: []}\n    filter: |\n      value.a == 1\n"
                       "        and value.b in [1, \"x\"]\n"),
            "9:28: policies.acme: filter: the list mixes a number and a string values");
  // A plain scalar folded over two lines.
  EXPECT_EQ(checkError("    topics: {allow: []}\n    filter: value.a == 1\n"
                       "      and timestamp == \"x\"\n"),
            "8:24: policies.acme: filter: cannot compare timestamp (a number) with the string "
            "'x'");
}

TEST(PolicyConfig, FieldRuleErrorsAtCheck) {
  EXPECT_EQ(checkError("    topics: {allow: []}\n    fields: [{path: value.a..b, action: drop}]\n"),
            "7:29: policies.acme: path: expected a field name after '.', found '.' (write "
            "[\"name\"] for names with other characters, [0] for array items)");
  EXPECT_THAT(
      checkError("    topics: {allow: []}\n    fields: [{path: timestamp, action: drop}]\n"),
      HasSubstr("7:21: policies.acme: path: transforms apply to fields of the value"));
  EXPECT_THAT(checkError("    topics: {allow: []}\n    fields:\n"
                         "      - {path: value.c, action: drop}\n"
                         "      - {path: value.c.email, action: redact}\n"),
              HasSubstr("9:16: policies.acme: value.c.email overlaps value.c (value.c:drop)"));
  EXPECT_THAT(
      checkError("    topics: {allow: []}\n"
                 "    fields: [{path: value.a, action: encrypt, key_file: /nonexistent/k}]\n"),
      HasSubstr("7:57: policies.acme: cannot read key file /nonexistent/k: No such file"));
  EXPECT_THAT(checkError("    topics: {allow: []}\n"
                         "    fields: [{path: key.a, action: drop}]\n"),
              HasSubstr("the key is read as a plain string"));
}

TEST(PolicyConfig, InvalidKeyFilesAreErrorsAtTheirReference) {
  const std::string file = ::testing::TempDir() + "/bad_keys_" + std::to_string(getpid());
  std::ofstream(file) << "k1:abc\n";
  EXPECT_THAT(
      checkError("    topics: {allow: []}\n"
                 "    fields: [{path: value.a, action: tokenize, key_file: " +
                 file + "}]\n"),
      HasSubstr("7:58: policies.acme: key file " + file + " line 1: key 'k1' has 3 hex digits"));
  std::remove(file.c_str());
}

// A schema that knows value.amount (a number) and value.card (an object).
class SmallSchema : public FieldTypes {
public:
  std::optional<FieldType> typeOf(const FieldPath& path, std::string& problem) const override {
    if (path.root != PathRoot::kValue || path.segments.empty()) {
      return FieldTypes::typeOf(path, problem);
    }
    if (path.text() == "value.amount") {
      return FieldType::kNumber;
    }
    if (path.text() == "value.card") {
      return FieldType::kObject;
    }
    problem = "not in the value schema";
    return std::nullopt;
  }
};

TEST(PolicyConfig, WithASchemaPathsAndActionTypesAreChecked) {
  const config::LoadResult result = load("    topics: {allow: []}\n"
                                         "    filter: 'value.amount > \"5\"'\n"
                                         "    fields:\n"
                                         "      - {path: value.card, action: truncate, max: 3}\n"
                                         "      - {path: value.cuntry, action: drop}\n"
                                         "      - {path: value.amount, action: mask}\n");
  ASSERT_TRUE(result.ok()) << errorsOf(result);
  SmallSchema schema;
  CompileOptions options;
  options.value_types = &schema;
  const CompileResult compiled = Policy::compile(result.config->policies.at("acme"), options);
  ASSERT_EQ(compiled.errors.size(), 3u);
  EXPECT_EQ(compiled.errors[0].str(), "p.yaml:9:36: policies.acme: truncate does not fit "
                                      "value.card, which is an object");
  EXPECT_EQ(compiled.errors[1].str(),
            "p.yaml:10:16: policies.acme: value.cuntry: not in the value schema");
  EXPECT_EQ(compiled.errors[2].str(), "p.yaml:7:29: policies.acme: filter: cannot compare "
                                      "value.amount (a number) with the string '5'");
}

TEST(PolicyConfig, ACheckOfPathsAloneReadsNoKeyFile) {
  // A key file that does not exist: compiling to run refuses it; compiling to check paths and
  // types against a topic's schema (once per topic) does not read it, and still checks the path.
  const config::LoadResult result = load("    topics: {allow: []}\n"
                                         "    fields:\n"
                                         "      - {path: value.cuntry, action: hash, secret_file: "
                                         "/nonexistent/causeway.hmac}\n");
  ASSERT_TRUE(result.ok()) << errorsOf(result);
  const auto& policy = result.config->policies.at("acme");
  const CompileResult to_run = Policy::compile(policy);
  ASSERT_EQ(to_run.errors.size(), 1u);
  EXPECT_THAT(to_run.errors[0].str(), HasSubstr("/nonexistent/causeway.hmac"));
  SmallSchema schema;
  CompileOptions options;
  options.value_types = &schema;
  options.load_keys = false;
  const CompileResult to_check = Policy::compile(policy, options);
  ASSERT_EQ(to_check.errors.size(), 1u);
  EXPECT_THAT(to_check.errors[0].str(), HasSubstr("value.cuntry: not in the value schema"));
}

TEST(PolicyConfig, WarnsWhenALinkIncludesTopicsThePolicyDenies) {
  auto warnings = [](const std::string& allow, const std::string& include) {
    std::string text = "clusters:\n  east: {bootstrap: \"127.0.0.1:1\"}\n"
                       "  west: {bootstrap: \"127.0.0.1:2\"}\n"
                       "policies:\n  acme: {topics: {allow: " +
                       allow +
                       "}}\n"
                       "links:\n  - {name: l1, source: east, target: west, topics: {include: " +
                       include + "}, policy: acme}\n";
    const config::LoadResult result = config::loadConfigString(text, "w.yaml");
    EXPECT_TRUE(result.ok()) << errorsOf(result);
    std::string out;
    for (const auto& w : configWarnings(*result.config)) {
      out += w.str() + "\n";
    }
    return out;
  };
  EXPECT_EQ(warnings(R"(["orders\\..*"])", R"(["orders\\..*"])"), "");
  EXPECT_EQ(warnings(R"(["orders\\..*"])", R"(["orders\\.eu\\..*", "orders\\.us"])"), "");
  EXPECT_EQ(warnings(R"(["orders\\..*"])", R"(["orders\\..*", "payments\\..*"])"),
            "w.yaml:7:105: links.l1: topics.include 'payments\\..*' may match topics that policy "
            "'acme' does not allow (it allows orders\\..*); such topics are never replicated by "
            "this link\n");
  EXPECT_THAT(warnings(R"(["orders\\..*"])", R"(["customers"])"), HasSubstr("names a topic"));
  EXPECT_THAT(warnings(R"(["orders\\.eu"])", R"(["orders\\..*"])"), HasSubstr("may match"));
}

TEST(PolicyConfig, RelativeKeyFilesAreRelativeToTheConfigurationFile) {
  const config::LoadResult result = config::loadConfigString(
      std::string(kHead) +
          "    topics: {allow: []}\n    fields:\n"
          "      - {path: value.a, action: encrypt, key_file: keys/a.aead}\n"
          "      - {path: value.b, action: hash, secret_file: /abs/b.hmac}\n" +
          std::string(kTail),
      "/etc/causeway/c.yaml");
  ASSERT_TRUE(result.ok()) << errorsOf(result);
  const config::PolicyConfig& policy = result.config->policies.at("acme");
  EXPECT_EQ(policy.fields[0].key.file, "/etc/causeway/keys/a.aead");
  EXPECT_EQ(policy.fields[1].key.file, "/abs/b.hmac");
}

TEST(PolicyConfig, DeadLetteredRecordsStayInTheDomainsCluster) {
  auto errorsFor = [](const std::string& link_extra, const std::string& policy_extra) {
    const std::string text = "clusters:\n  east: {bootstrap: \"127.0.0.1:1\"}\n"
                             "  west: {bootstrap: \"127.0.0.1:2\"}\n"
                             "policies:\n  acme: {topics: {allow: []}" +
                             policy_extra +
                             "}\n"
                             "links:\n  - {name: l1, source: east, target: west, topics: "
                             "{include: [x]}, policy: acme" +
                             link_extra + "}\n";
    const config::LoadResult result = config::loadConfigString(text, "d.yaml");
    EXPECT_TRUE(result.ok()) << errorsOf(result);
    std::string out;
    for (const auto& e : checkConfig(*result.config)) {
      out += e.str() + "\n";
    }
    return out;
  };
  EXPECT_EQ(errorsFor(", dlq: {cluster: source}", ""), "");
  EXPECT_THAT(errorsFor("", ""), HasSubstr("links.l1: policy 'acme' sends records it cannot "
                                           "apply to the dead-letter queue"));
  EXPECT_THAT(errorsFor(", dlq: {cluster: target}", ""),
              HasSubstr("a dead-letter queue on the target (the partner's cluster) would hand "
                        "them over"));
  EXPECT_EQ(errorsFor("", ", on_violation: skip"), "");
  EXPECT_EQ(errorsFor(", dlq: {cluster: target}", ", mode: shadow"), "");
}

}  // namespace
}  // namespace causeway::policies

namespace causeway::policies {
namespace {

TEST(PolicyConfig, AuditGoesToAFileATopicOrBoth) {
  const auto both = load("    topics: {allow: []}\n"
                         "    audit: {file: /tmp/a.jsonl, topic: causeway.audit, cluster: east}\n");
  ASSERT_TRUE(both.ok()) << errorsOf(both);
  const auto& policy = both.config->policies.at("acme");
  EXPECT_EQ(policy.audit_file, "/tmp/a.jsonl");
  EXPECT_EQ(policy.audit_topic, "causeway.audit");
  EXPECT_EQ(policy.audit_cluster, "east");
  EXPECT_TRUE(checkConfig(*both.config).empty());

  EXPECT_THAT(loadError("    topics: {allow: []}\n    audit: {interval: 5s}\n"),
              HasSubstr("7:12: policies.acme.audit: an audit log needs `file`, `topic` (with "
                        "`cluster`), or both"));
  EXPECT_THAT(loadError("    topics: {allow: []}\n    audit: {topic: causeway.audit}\n"),
              HasSubstr("7:20: policies.acme.audit.topic: an audit topic needs `cluster`"));
  EXPECT_THAT(loadError("    topics: {allow: []}\n    audit: {file: /a, cluster: east}\n"),
              HasSubstr("`cluster` names where the audit `topic` goes; there is no topic"));
  EXPECT_EQ(checkError("    topics: {allow: []}\n"
                       "    audit: {topic: causeway.audit, cluster: eats}\n"),
            "7:45: policies.acme.audit: unknown cluster 'eats' (the audit topic must be "
            "on a cluster under `clusters:`)");
}

TEST(PolicyConfig, AnAuditTopicNeedsAWriterForIt) {
  const auto loaded = load("    topics: {allow: []}\n"
                           "    audit: {topic: causeway.audit, cluster: east}\n");
  ASSERT_TRUE(loaded.ok()) << errorsOf(loaded);
  std::vector<config::ConfigError> errors;
  EXPECT_EQ(PolicyRuntime::create(*loaded.config, errors), nullptr);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("this command writes no audit topics"));

  // with a factory, every line reaches the sink it opened
  struct Lines : AuditSink {
    std::vector<std::string>* out;
    Status write(std::string_view line) override {
      out->emplace_back(line);
      return {};
    }
  };
  std::vector<std::string> lines;
  std::string opened;
  errors.clear();
  auto runtime =
      PolicyRuntime::create(*loaded.config, errors, {},
                            [&](const config::ClusterConfig& cluster,
                                const std::string& topic) -> Result<std::unique_ptr<AuditSink>> {
                              opened = cluster.name + "/" + topic;
                              auto sink = std::make_unique<Lines>();
                              sink->out = &lines;
                              return std::unique_ptr<AuditSink>(std::move(sink));
                            });
  ASSERT_NE(runtime, nullptr);
  EXPECT_EQ(opened, "east/causeway.audit");
  bump(runtime->counters("l1", "acme")->records);
  runtime->flushAudit();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("\"policy\":\"acme\""));
}

}  // namespace
}  // namespace causeway::policies
