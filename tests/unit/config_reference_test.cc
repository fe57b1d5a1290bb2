// docs/configuration.md against the loaders: every key a section accepts has a row in the
// reference, every row is a key the loader accepts, and every choice names its words. How to
// register a new section's keys: config/sections.h.

#include "config/sections.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace causeway::config {
namespace {

const std::filesystem::path kReference =
    std::filesystem::path(CAUSEWAY_SOURCE_DIR) / "docs" / "configuration.md";

// One table of the reference: the rows under a `<!-- config-keys: PATH -->` marker.
struct Table {
  int line = 0;                              // the marker's line
  std::map<std::string, std::string> rows;   // key -> the whole row
};

// The tables of the reference by path. A table runs from its marker to the next marker or
// heading; rows whose first cell is not one backticked word (headers, separators) are skipped.
std::map<std::string, Table> readReference(std::string& problems) {
  std::ifstream in(kReference);
  std::map<std::string, Table> tables;
  if (!in) {
    problems += "cannot read " + kReference.string() + "\n";
    return tables;
  }
  const std::regex marker(R"(^<!--\s*config-keys:\s*(.+?)\s*-->\s*$)");
  const std::regex row(R"(^\|\s*`([^`]+)`\s*\|)");
  Table* current = nullptr;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::smatch match;
    if (std::regex_match(line, match, marker)) {
      const std::string path = match[1];
      auto [it, inserted] = tables.emplace(path, Table{number, {}});
      if (!inserted) {
        problems += "docs/configuration.md:" + std::to_string(number) + ": a second table for `" +
                    path + "` (the first is at line " + std::to_string(it->second.line) + ")\n";
      }
      current = &it->second;
    } else if (line.rfind("#", 0) == 0) {
      current = nullptr;
    } else if (current != nullptr && std::regex_search(line, match, row)) {
      current->rows.emplace(match[1], line);
    }
  }
  return tables;
}

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += (out.empty() ? "`" : ", `") + name + "`";
  }
  return out;
}

TEST(ConfigReference, EveryRegisteredMapHasATableWithExactlyItsKeys) {
  std::string problems;
  const auto tables = readReference(problems);
  ASSERT_FALSE(tables.empty()) << problems;
  std::set<std::string> registered_paths;
  for (const auto& entry : registeredKeys()) {
    registered_paths.insert(entry.path);
    const auto table = tables.find(entry.path);
    if (table == tables.end()) {
      problems += "no table for `" + entry.path + "`: add `<!-- config-keys: " + entry.path +
                  " -->` and a row per key (" +
                  joined({entry.names.begin(), entry.names.end()}) + ")\n";
      continue;
    }
    std::set<std::string> documented;
    for (const auto& [key, row] : table->second.rows) {
      documented.insert(key);
    }
    const std::set<std::string> accepted(entry.names.begin(), entry.names.end());
    std::set<std::string> undocumented;
    std::set_difference(accepted.begin(), accepted.end(), documented.begin(), documented.end(),
                        std::inserter(undocumented, undocumented.end()));
    std::set<std::string> stale;
    std::set_difference(documented.begin(), documented.end(), accepted.begin(), accepted.end(),
                        std::inserter(stale, stale.end()));
    if (!undocumented.empty()) {
      problems += "`" + entry.path + "` (line " + std::to_string(table->second.line) +
                  "): no row for " + joined(undocumented) + "\n";
    }
    if (!stale.empty()) {
      problems += "`" + entry.path + "` (line " + std::to_string(table->second.line) +
                  "): rows for keys the loader does not accept: " + joined(stale) + "\n";
    }
  }
  for (const auto& [path, table] : tables) {
    if (registered_paths.count(path) == 0) {
      problems += "docs/configuration.md:" + std::to_string(table.line) + ": table `" + path +
                  "` matches no registered key list (config/sections.h: KeysRegistration)\n";
    }
  }
  EXPECT_TRUE(problems.empty()) << "docs/configuration.md and the config loaders disagree:\n"
                                << problems;
}

TEST(ConfigReference, EveryChoiceNamesItsWordsInTheRowOfItsKey) {
  std::string problems;
  const auto tables = readReference(problems);
  ASSERT_FALSE(tables.empty()) << problems;
  for (const auto& entry : registeredValues()) {
    // "links[].delivery": the row `delivery` of the table `links[]`.
    const size_t dot = entry.path.rfind('.');
    ASSERT_NE(dot, std::string::npos) << entry.path;
    const std::string table_path = entry.path.substr(0, dot);
    const std::string key = entry.path.substr(dot + 1);
    const auto table = tables.find(table_path);
    if (table == tables.end() || table->second.rows.count(key) == 0) {
      problems += "no row `" + key + "` in the table `" + table_path + "`\n";
      continue;
    }
    const std::string& row = table->second.rows.at(key);
    std::set<std::string> missing;
    for (const auto& word : entry.names) {
      // A placeholder may be written with its braces (`{topic}`).
      if (row.find("`" + word + "`") == std::string::npos &&
          row.find("{" + word + "}") == std::string::npos) {
        missing.insert(word);
      }
    }
    if (!missing.empty()) {
      problems += "`" + entry.path + "`: the row does not name " + joined(missing) + "\n";
    }
  }
  EXPECT_TRUE(problems.empty()) << "docs/configuration.md and the config loaders disagree:\n"
                                << problems;
}

// A new top-level section must register its keys too: each top-level key has at least one
// registered map at or under it.
TEST(ConfigReference, EveryTopLevelSectionRegistersItsKeys) {
  const auto keys = registeredKeys();
  const auto top = std::find_if(keys.begin(), keys.end(),
                                [](const ReferenceEntry& e) { return e.path == "top level"; });
  ASSERT_NE(top, keys.end());
  for (const auto& section : top->names) {
    const bool found = std::any_of(keys.begin(), keys.end(), [&section](const ReferenceEntry& e) {
      return e.path.rfind(section, 0) == 0 &&
             (e.path.size() == section.size() || e.path[section.size()] == '.' ||
              e.path[section.size()] == '[');
    });
    EXPECT_TRUE(found) << "top-level section `" << section
                       << "` registers no key list (config/sections.h: KeysRegistration)";
  }
}

} // namespace
} // namespace causeway::config
