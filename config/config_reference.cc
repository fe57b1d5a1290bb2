// The registry behind registeredKeys() / registeredValues()
// (config/sections.h): the key lists and choices the section loaders accept,
// for the test that keeps docs/configuration.md true.

#include "config/config_loader.h"
#include "config/sections.h"

#include <algorithm>

namespace causeway::config {
namespace {

// Function-local statics: registrations run during static initialisation of
// other files, in an order the language does not fix, so the registry must
// exist before its first use.
std::vector<ReferenceEntry> &keysRegistry() {
  static std::vector<ReferenceEntry> registry;
  return registry;
}

std::vector<ReferenceEntry> &valuesRegistry() {
  static std::vector<ReferenceEntry> registry;
  return registry;
}

std::vector<ReferenceEntry> sorted(std::vector<ReferenceEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const ReferenceEntry &a, const ReferenceEntry &b) {
              return a.path < b.path;
            });
  return entries;
}

// Taking loadRoot's address makes every program that asks for the registry link
// the loader, and with it every section file (each registers itself): the
// answer is never partial.
Config (*const kLinkTheLoaders)(YamlReader &, const YAML::Node &) = &loadRoot;

} // namespace

KeysRegistration::KeysRegistration(std::string path,
                                   const std::vector<std::string> &keys) {
  keysRegistry().push_back(ReferenceEntry{std::move(path), keys});
}

ValuesRegistration::ValuesRegistration(std::string path,
                                       const std::vector<std::string> &values) {
  valuesRegistry().push_back(ReferenceEntry{std::move(path), values});
}

std::vector<ReferenceEntry> registeredKeys() {
  (void)kLinkTheLoaders;
  return sorted(keysRegistry());
}

std::vector<ReferenceEntry> registeredValues() {
  (void)kLinkTheLoaders;
  return sorted(valuesRegistry());
}

} // namespace causeway::config
