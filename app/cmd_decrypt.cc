// causeway decrypt: what a partner holding the key runs to read encrypted fields
// (docs/encryption.md). Reads stdin: one envelope, a JSON document, or JSON lines; writes the
// same with every envelope replaced by its plaintext.

#include "app/commands.h"
#include "policies/envelope.h"

#include <nlohmann/json.hpp>

#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

namespace causeway::app {
namespace {

std::string trimmed(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) {
    return "";
  }
  const size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

// The JSON value an opened envelope stands for.
nlohmann::json plainValue(const policies::Opened& opened, std::string& problem) {
  switch (opened.type) {
  case policies::PlainType::kNumber:
  case policies::PlainType::kBool:
  case policies::PlainType::kJson: {
    nlohmann::json value = nlohmann::json::parse(opened.plaintext, nullptr, false);
    if (value.is_discarded()) {
      problem = "the plaintext is not the JSON its type says";
      return nullptr;
    }
    return value;
  }
  default:
    return opened.plaintext;
  }
}

// Replaces every envelope inside `json`; failures are reported with their JSON pointer.
void decryptTree(nlohmann::json& json, policies::EnvelopeOpener& opener, const std::string& where,
                 int& failures) {
  if (json.is_object()) {
    for (auto& [name, value] : json.items()) {
      decryptTree(value, opener, where + "/" + name, failures);
    }
  } else if (json.is_array()) {
    for (size_t i = 0; i < json.size(); ++i) {
      decryptTree(json[i], opener, where + "/" + std::to_string(i), failures);
    }
  } else if (json.is_string() && policies::looksLikeEnvelope(json.get_ref<std::string&>())) {
    Result<policies::Opened> opened = opener.open(json.get_ref<std::string&>());
    std::string problem;
    if (opened) {
      nlohmann::json plain = plainValue(*opened, problem);
      if (problem.empty()) {
        json = std::move(plain);
        return;
      }
    } else {
      problem = opened.error().message;
    }
    std::cerr << (where.empty() ? "/" : where) << ": " << problem << "\n";
    ++failures;
  }
}

int decryptText(const std::string& text, policies::EnvelopeOpener& opener, int& failures) {
  const std::string input = trimmed(text);
  if (input.empty()) {
    return 0;
  }
  if (policies::looksLikeEnvelope(input) && input.find_first_of(" \t\n") == std::string::npos) {
    Result<policies::Opened> opened = opener.open(input);
    if (!opened) {
      std::cerr << opened.error().message << "\n";
      ++failures;
      return 1;
    }
    std::cout << opened->plaintext << "\n";
    return 0;
  }
  nlohmann::json json = nlohmann::json::parse(input, nullptr, false);
  if (json.is_discarded()) {
    return -1;
  }
  decryptTree(json, opener, "", failures);
  std::cout << json.dump() << "\n";
  return 0;
}

}  // namespace

int runDecrypt(const DecryptOptions& options) {
  Result<policies::KeySet> keys =
      policies::loadKeySet(policies::KeyLocation{options.key_file, options.key_env});
  if (!keys) {
    std::cerr << keys.error().message << "\n";
    return 1;
  }
  policies::EnvelopeOpener opener(std::make_shared<const policies::KeySet>(std::move(*keys)));
  const std::string text((std::istreambuf_iterator<char>(std::cin)),
                         std::istreambuf_iterator<char>());
  int failures = 0;
  if (decryptText(text, opener, failures) < 0) {
    // Not one document: JSON lines (or one envelope per line).
    std::istringstream lines(text);
    std::string line;
    size_t number = 0;
    while (std::getline(lines, line)) {
      ++number;
      if (decryptText(line, opener, failures) < 0) {
        std::cerr << "line " << number << ": neither an envelope nor JSON\n";
        ++failures;
      }
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace causeway::app
