#include "config/sections.h"

#include <array>
#include <string_view>

namespace causeway::config {
namespace {

// librdkafka properties Causeway sets itself: a user value would break its
// guarantees.
struct OwnedProperty {
  std::string_view name;
  std::string_view reason;
};

constexpr std::array kOwnedByBootstrap = {
    OwnedProperty{"bootstrap.servers", "set the cluster's `bootstrap` instead"},
    OwnedProperty{"metadata.broker.list", "it is an alias of bootstrap.servers; set the cluster's "
                                          "`bootstrap` instead"},
};

constexpr std::array kOwnedByConsumer = {
    OwnedProperty{"group.id", "Causeway sets it to causeway.<link> for each link"},
    OwnedProperty{"enable.auto.commit", "Causeway commits source offsets itself, only once the "
                                        "target acknowledged "
                                        "every record below them"},
    OwnedProperty{"enable.auto.offset.store",
                  "Causeway stores source offsets itself, only once the target "
                  "acknowledged "
                  "every record below them"},
    OwnedProperty{"partition.assignment.strategy",
                  "Causeway uses cooperative-sticky so that workers can join "
                  "and leave a link "
                  "without stopping it"},
};

constexpr std::array kOwnedByConsumerStart = {
    OwnedProperty{"auto.offset.reset", "set the link's `start` (earliest or latest) instead"},
    OwnedProperty{"enable.partition.eof",
                  "Causeway's data plane uses partition-EOF events to account for offsets "
                  "that hold no record (transaction markers, compacted gaps)"},
};

constexpr std::array kOwnedByProducer = {
    OwnedProperty{"acks", "Causeway requires acks=all: a record counts as replicated only once "
                          "every in-sync replica of the target has it"},
    OwnedProperty{"enable.idempotence",
                  "Causeway's producer is idempotent so that retries never reorder or "
                  "duplicate records within a partition"},
    OwnedProperty{"transactional.id", "Causeway manages transactions itself"},
    OwnedProperty{"enable.gapless.guarantee",
                  "Causeway sets it on exactly-once links so that nothing is written after a "
                  "record the target refused"},
};

// For the configuration reference: every property refused in some scope.
std::vector<std::string> ownedNames() {
  std::vector<std::string> names;
  auto add = [&names](const auto& owned) {
    for (const auto& property : owned) {
      names.emplace_back(property.name);
    }
  };
  add(kOwnedByBootstrap);
  add(kOwnedByConsumer);
  add(kOwnedByConsumerStart);
  add(kOwnedByProducer);
  return names;
}
const std::vector<std::string> kOwnedNames = ownedNames();
const KeysRegistration kOwnedRegistration("librdkafka properties Causeway owns", kOwnedNames);

const char* ownedReason(const std::string& key, PropertyScope scope) {
  for (const auto& owned : kOwnedByBootstrap) {
    if (owned.name == key) {
      return owned.reason.data();
    }
  }
  if (scope != PropertyScope::kProducer) {
    for (const auto& owned : kOwnedByConsumer) {
      if (owned.name == key) {
        return owned.reason.data();
      }
    }
    for (const auto& owned : kOwnedByConsumerStart) {
      if (owned.name == key) {
        return owned.reason.data();
      }
    }
  }
  if (scope != PropertyScope::kConsumer) {
    for (const auto& owned : kOwnedByProducer) {
      if (owned.name == key) {
        return owned.reason.data();
      }
    }
  }
  return nullptr;
}

}  // namespace

// librdkafka passthrough: string -> string; scalars of any YAML type are taken
// as written, references resolved (a secret-named property's value is
// registered for redaction by the reader).
void loadKafkaProperties(YamlReader& reader, const Field* field, PropertyScope scope,
                         std::map<std::string, std::string>& out) {
  if (field == nullptr) {
    return;
  }
  if (!field->node.IsMap()) {
    reader.typeError(*field, "a map of librdkafka property -> value");
    return;
  }
  for (auto& [key, value] : reader.entries(*field)) {
    if (const char* reason = ownedReason(key, scope)) {
      reader.error(value.key_mark, value.path,
                   "Causeway owns this property and it cannot be set here: " + std::string(reason));
      continue;
    }
    if (value.node.IsNull()) {
      reader.error(value, "has no value (write \"\" for an empty string)");
      continue;
    }
    if (!value.node.IsScalar()) {
      reader.typeError(value, "a string, number or boolean");
      continue;
    }
    if (auto text = reader.string(value)) {
      out[key] = std::move(*text);
    }
  }
}

}  // namespace causeway::config
