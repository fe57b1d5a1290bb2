// causeway policy test: runs sample records through one policy and shows, for each, the record
// before and after and what every step of the policy did. Nothing is connected to; keys are
// read as a worker would read them.

#include "app/commands.h"
#include "app/policy_test_avro.h"
#include "app/policy_test_protobuf.h"
#include "config/config_loader.h"
#include "pipeline/record.h"
#include "policies/policy_stage.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace causeway::app {
namespace {

// One sample record, owning its bytes.
struct Sample {
  std::string topic;
  std::optional<std::string> key;
  std::optional<std::string> value;
  bool value_raw = false;  // `value` holds the payload bytes, not the value's JSON text
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int64_t timestamp = -1;
};

// A line: `{"topic", "key", "value", "value_raw", "headers", "timestamp"}`, or with --values the
// value's own text.
std::optional<Sample> parseSample(const std::string& line, const PolicyTestOptions& options,
                                  std::string& problem) {
  Sample sample;
  sample.topic = options.topic;
  if (options.values) {
    sample.value = line;
    return sample;
  }
  nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    problem = "expected a JSON object with topic, key, value, headers, timestamp (or use "
              "--values for lines that are record values)";
    return std::nullopt;
  }
  if (json.contains("topic") && json["topic"].is_string()) {
    sample.topic = json["topic"].get<std::string>();
  }
  if (json.contains("key") && !json["key"].is_null()) {
    sample.key = json["key"].is_string() ? json["key"].get<std::string>() : json["key"].dump();
  }
  if (json.contains("value_raw") && json["value_raw"].is_string()) {
    sample.value = json["value_raw"].get<std::string>();
    sample.value_raw = true;
  } else if (json.contains("value") && !json["value"].is_null()) {
    sample.value = json["value"].dump();
  }
  if (json.contains("headers") && json["headers"].is_object()) {
    for (const auto& [name, value] : json["headers"].items()) {
      sample.headers.emplace_back(
          name, value.is_null() ? std::nullopt
                                : std::optional<std::string>(
                                      value.is_string() ? value.get<std::string>() : value.dump()));
    }
  }
  if (json.contains("timestamp") && json["timestamp"].is_number_integer()) {
    sample.timestamp = json["timestamp"].get<int64_t>();
  }
  return sample;
}

std::string show(const std::optional<std::string_view>& bytes) {
  return bytes ? std::string(*bytes) : std::string("null");
}

std::string headersText(const pipeline::Record& record) {
  std::string out;
  record.forEachHeader([&](std::string_view name, std::optional<std::string_view> value) {
    out += (out.empty() ? "" : ", ") + std::string(name) + "=" +
           (value ? std::string(*value) : std::string("<null>"));
  });
  return out.empty() ? "(none)" : out;
}

}  // namespace

int runPolicyTest(const PolicyTestOptions& options) {
  const config::LoadResult loaded = config::loadConfigFile(options.config_path);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) {
      std::cerr << error.str() << "\n";
    }
    return 1;
  }
  const config::Config& config = *loaded.config;
  auto found = config.policies.find(options.policy);
  if (found == config.policies.end()) {
    std::vector<std::string> names;
    for (const auto& [name, policy] : config.policies) {
      names.push_back(name);
    }
    std::cerr << options.config_path << ": no policy " << config::quoted(options.policy)
              << config::suggestion(options.policy, names, "the policies are") << "\n";
    return 1;
  }
  const std::string& format = found->second.value_format;
  const bool with_schema = format == "avro" || format == "protobuf";
  if (with_schema == options.schema_path.empty()) {
    std::cerr << options.config_path << ": policy " << config::quoted(options.policy)
              << (with_schema
                      ? " reads " + std::string(format == "avro" ? "Avro" : "Protobuf") +
                            " records (formats.value: " + format + "): give the writer's " +
                            (format == "avro" ? "Avro schema (.avsc)" : ".proto") + " with --schema"
                      : std::string(" reads ") + format +
                            " records: --schema is for policies with formats.value avro "
                            "or protobuf")
              << "\n";
    return 1;
  }
  if (!options.message.empty() && format != "protobuf") {
    std::cerr << "--message names a message of a .proto: it is for policies with formats.value "
                 "protobuf\n";
    return 1;
  }
  const policies::CompileResult compiled = policies::Policy::compile(found->second);
  if (!compiled.policy) {
    for (const auto& error : compiled.errors) {
      std::cerr << error.str() << "\n";
    }
    return 1;
  }
  std::unique_ptr<PolicySamples> samples;
  if (with_schema) {
    auto widen = [](auto loaded) -> Result<std::unique_ptr<PolicySamples>> {
      if (!loaded) {
        return loaded.error();
      }
      return std::unique_ptr<PolicySamples>(std::move(*loaded));
    };
    Result<std::unique_ptr<PolicySamples>> loaded_samples =
        format == "avro"
            ? widen(AvroSamples::load(options.schema_path, *compiled.policy))
            : widen(ProtobufSamples::load(options.schema_path, options.message, *compiled.policy));
    if (!loaded_samples) {
      std::cerr << loaded_samples.error().message << "\n";
      return 1;
    }
    samples = std::move(*loaded_samples);
    for (const std::string& problem : samples->problems()) {
      std::cout << "the policy cannot edit records of this schema: " << problem << "\n";
    }
    if (samples->changed() && samples->problems().empty()) {
      std::cout << "derived " << samples->schemaKind()
                << " (the target registry gets it in place of the writer's):\n"
                << samples->derivedSchema() << "\n";
    }
  }
  std::vector<std::string> rule_names;
  for (const auto& rule : compiled.policy->rules()) {
    rule_names.push_back(rule.name);
  }
  auto counters = std::make_shared<policies::PolicyCounters>(options.policy, "policy-test",
                                                             compiled.policy->shadow(), rule_names);
  auto stage = samples ? samples->makeStage(compiled.policy, counters)
                       : policies::PolicyStage::create(compiled.policy, counters);
  if (!stage) {
    std::cerr << stage.error().message << "\n";
    return 1;
  }
  policies::PolicyTrace trace;
  (*stage)->setTrace(&trace);

  std::ifstream file;
  std::istream* input = &std::cin;
  if (options.input != "-") {
    file.open(options.input);
    if (!file) {
      std::cerr << "cannot read " << options.input << "\n";
      return 1;
    }
    input = &file;
  }
  std::string line;
  size_t line_number = 0;
  size_t records = 0;
  int status = 0;
  while (std::getline(*input, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    std::string problem;
    std::optional<Sample> sample = parseSample(line, options, problem);
    if (!sample) {
      std::cerr << options.input << ":" << line_number << ": " << problem << "\n";
      status = 1;
      continue;
    }
    // Avro, Protobuf: the value's JSON is encoded with the writer's schema (value_raw goes as it
    // is).
    std::optional<std::string> shown_before;
    if (samples) {
      samples->learn(sample->topic);
      if (sample->value && !sample->value_raw) {
        Result<std::string> encoded = samples->encode(*sample->value);
        if (!encoded) {
          std::cerr << options.input << ":" << line_number << ": " << encoded.error().message
                    << "\n";
          status = 1;
          continue;
        }
        shown_before = std::move(*sample->value);
        sample->value = std::move(*encoded);
      }
    }
    ++records;
    pipeline::RecordView view;
    view.topic = sample->topic;
    view.offset = static_cast<int64_t>(line_number);
    if (sample->key) {
      view.key = std::string_view(*sample->key);
    }
    if (sample->value) {
      view.value = std::string_view(*sample->value);
    }
    view.timestamp = sample->timestamp;
    for (const auto& [name, value] : sample->headers) {
      view.headers.push_back({name, value ? std::optional<std::string_view>(*value)
                                          : std::optional<std::string_view>()});
    }
    pipeline::Record record;
    record.reset(&view);
    std::cout << "record " << records << " (line " << line_number << "), topic " << view.topic
              << ", key " << show(view.key) << "\n";
    std::cout << "  before:  " << (shown_before ? *shown_before : show(view.value)) << "\n";
    std::cout << "  headers: " << headersText(record) << "\n";
    const pipeline::Verdict verdict = (*stage)->process(record);
    for (const auto& step : trace.steps) {
      std::cout << "  - " << step.rule << ": " << step.what << "\n";
    }
    std::cout << "  verdict: " << pipeline::outcomeName(verdict.outcome);
    if (verdict.outcome != pipeline::Outcome::kPass) {
      std::cout << " (" << verdict.reason << ", rule " << verdict.rule
                << (verdict.detail.empty() ? "" : ", " + verdict.detail) << ")";
    }
    std::cout << "\n";
    if (verdict.outcome == pipeline::Outcome::kPass) {
      std::cout << "  after:   "
                << (samples && shown_before && record.value()
                        ? samples->show(*record.value(), !compiled.policy->shadow())
                        : show(record.value()))
                << "\n";
      if (record.keyChanged()) {
        std::cout << "  key:     " << show(record.key()) << "\n";
      }
      std::cout << "  headers: " << headersText(record) << "\n";
    }
    std::cout << "\n";
  }
  const policies::PolicyCountsSnapshot c = counters->snapshot();
  std::cout << records << (records == 1 ? " record" : " records") << ": " << c.passed << " passed, "
            << c.not_allowed << " not allowed, " << c.filtered << " filtered, " << c.dead_lettered
            << " dead-lettered, " << c.skipped << " skipped, " << c.stopped << " stopping"
            << (c.shadow ? " (shadow mode: nothing was changed)" : "") << "\n";
  for (const auto& rule : c.rules) {
    std::cout << "  " << rule.rule << ": applied " << rule.applied << ", kept " << rule.kept
              << ", absent " << rule.absent << ", failed " << rule.failed << "\n";
  }
  return status;
}

}  // namespace causeway::app
