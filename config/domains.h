#pragma once

// Data-mesh domains (`domains:`): who owns which topics, and the contracts their records must
// keep. Loaded by domains_section.cc; enforced by schema/ (the contract stage).

#include "config/source_location.h"

#include <string>
#include <vector>

namespace causeway::config {

// How a key or value is encoded. avro, protobuf and json are framed with a schema ID (or GUID,
// in the payload or a header) and checked against a registry; string must be UTF-8; bytes is
// anything.
enum class PayloadFormat { kBytes, kString, kAvro, kProtobuf, kJson };

// Which registry subject holds the contract's schema (Confluent's subject name strategies):
// topic -> "<topic>-key" / "<topic>-value"; record -> the record's full name;
// topic_record -> "<topic>-<record full name>".
enum class SubjectStrategy { kTopic, kRecord, kTopicRecord };

// How a record's writer schema must relate to the contract's schema: backward (the contract's
// schema reads the record), forward (the record's schema reads data written with the
// contract's), full (both), none (any schema registered in the subject).
enum class Compatibility { kBackward, kForward, kFull, kNone };

enum class ViolationAction { kDeadLetter, kSkip, kStop };

// What a contract says about the key or the value.
struct ContractSideConfig {
  bool present = false;  // the side was configured
  PayloadFormat format = PayloadFormat::kBytes;
  SubjectStrategy subject_strategy = SubjectStrategy::kTopic;
  Compatibility compatibility = Compatibility::kBackward;
  // The subject version that is the contract's schema; 0 means the latest version.
  int version = 0;
  SourceLocation location;

  bool usesRegistry() const {
    return format == PayloadFormat::kAvro || format == PayloadFormat::kProtobuf ||
           format == PayloadFormat::kJson;
  }
};

struct ContractConfig {
  std::string name;                 // optional; rules are named <domain>.<name>.<side>
  std::vector<std::string> topics;  // regexes (full match) within the domain's topics
  ContractSideConfig key;
  ContractSideConfig value;
  ViolationAction on_violation = ViolationAction::kDeadLetter;
  SourceLocation location;
};

struct DomainConfig {
  std::string name;
  std::string owner;                // a contact, shown in violations' status
  std::vector<std::string> topics;  // regexes (full match) of the topics the domain owns
  std::vector<ContractConfig> contracts;
  SourceLocation location;
};

const char* payloadFormatName(PayloadFormat format);
const char* subjectStrategyName(SubjectStrategy strategy);
const char* compatibilityName(Compatibility compatibility);

// Under backward and full compatibility the contract's schema must read what writers wrote, so
// records can be shown in the contract's shape (partner streams decode them so).
bool contractReadsWriters(Compatibility compatibility);
// Under forward and full compatibility writers' schemas must read what the contract wrote.
bool writersReadContract(Compatibility compatibility);
const char* violationActionName(ViolationAction action);

}  // namespace causeway::config
