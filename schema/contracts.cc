#include "schema/contracts.h"

#include "schema/proto_source.h"

#include <nlohmann/json.hpp>

namespace causeway::schema {

ContractSet::ContractSet(const config::Config& config) {
  for (const auto& domain : config.domains) {
    DomainTopics topics{&domain, {}};
    for (const auto& pattern : domain.topics) {
      topics.topics.emplace_back(pattern, std::regex::ECMAScript);
    }
    domains_.push_back(std::move(topics));
    for (size_t i = 0; i < domain.contracts.size(); ++i) {
      const auto& contract_config = domain.contracts[i];
      Contract contract;
      contract.domain = &domain;
      contract.config = &contract_config;
      contract.name = domain.name + "." +
                      (contract_config.name.empty() ? "contracts[" + std::to_string(i) + "]"
                                                    : contract_config.name);
      for (const auto& pattern : contract_config.topics) {
        contract.topics.emplace_back(pattern, std::regex::ECMAScript);
      }
      contracts_.push_back(std::move(contract));
      domain_of_.push_back(domains_.size() - 1);
    }
  }
}

const Contract* ContractSet::find(std::string_view topic_view) const {
  const std::string topic(topic_view);
  auto matches = [&topic](const std::vector<std::regex>& patterns) {
    for (const auto& re : patterns) {
      if (std::regex_match(topic, re)) {
        return true;
      }
    }
    return false;
  };
  for (size_t i = 0; i < contracts_.size(); ++i) {
    if (matches(contracts_[i].topics) && matches(domains_[domain_of_[i]].topics)) {
      return &contracts_[i];
    }
  }
  return nullptr;
}

std::string subjectName(config::SubjectStrategy strategy, std::string_view topic, Side side,
                        std::string_view record) {
  switch (strategy) {
  case config::SubjectStrategy::kTopic:
    return std::string(topic) + "-" + sideName(side);
  case config::SubjectStrategy::kRecord:
    return std::string(record);
  case config::SubjectStrategy::kTopicRecord:
    return std::string(topic) + "-" + std::string(record);
  }
  return std::string(topic) + "-" + sideName(side);
}

Result<std::string> recordName(const Schema& schema) {
  switch (schema.type) {
  case SchemaType::kAvro: {
    const auto j = nlohmann::json::parse(schema.text, nullptr, false);
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) {
      return Error{"the Avro schema is not a named type, so it has no record name"};
    }
    std::string name = j["name"].get<std::string>();
    if (name.find('.') == std::string::npos && j.contains("namespace") &&
        j["namespace"].is_string() && !j["namespace"].get<std::string>().empty()) {
      name = j["namespace"].get<std::string>() + "." + name;
    }
    return name;
  }
  case SchemaType::kProtobuf: {
    google::protobuf::FileDescriptorProto proto;
    std::vector<ProtoSyntaxError> errors;
    if (!parseProtoText("schema.proto", schema.text, proto, errors) ||
        proto.message_type_size() == 0) {
      return Error{"the .proto has no message, so it has no record name"};
    }
    const std::string& message = proto.message_type(0).name();
    return proto.package().empty() ? message : proto.package() + "." + message;
  }
  case SchemaType::kJson: {
    const auto j = nlohmann::json::parse(schema.text, nullptr, false);
    if (!j.is_object() || !j.contains("title") || !j["title"].is_string()) {
      return Error{"the JSON Schema has no \"title\", so it has no record name"};
    }
    return j["title"].get<std::string>();
  }
  }
  return Error{"unknown schema type"};
}

}  // namespace causeway::schema
