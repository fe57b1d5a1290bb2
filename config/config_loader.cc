#include "config/config_loader.h"

#include "config/sections.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>

namespace causeway::config {
namespace {

// Anything larger is certainly not a Causeway configuration; refusing it keeps
// a mistaken path (a log file, a device) from being read into memory.
constexpr size_t kMaxFileBytes = 16u << 20;

const std::vector<std::string> kTopLevelKeys = {"registries", "clusters", "domains",  "links",
                                                "policies",   "products", "partners", "egress"};
const KeysRegistration kTopLevelKeysRegistration("top level", kTopLevelKeys);

// Sees the parser's events only to learn where each document starts.
// YAML::LoadAll cannot be used: yaml-cpp 0.7 returns an endless series of empty
// documents for a stray ',' at document level (found by fuzz/config_fuzz.cc),
// so documents are counted here with a bound instead.
class DocumentCounter : public YAML::EventHandler {
public:
  struct Document {
    YAML::Mark first;  // mark of the document's first node
    bool only_null = true;
    bool has_node = false;
  };

  const std::vector<Document>& documents() const { return documents_; }

  void OnDocumentStart(const YAML::Mark& /*mark*/) override { documents_.emplace_back(); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t /*anchor*/) override { node(mark, true); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t /*anchor*/) override { node(mark, false); }
  void OnScalar(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                const std::string& /*value*/) override {
    node(mark, false);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/,
                       YAML::anchor_t /*anchor*/, YAML::EmitterStyle::value /*style*/) override {
    node(mark, false);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                  YAML::EmitterStyle::value /*style*/) override {
    node(mark, false);
  }
  void OnMapEnd() override {}

  // True when the last two documents are the same empty document at the same
  // place: the parser is not advancing (it is stuck on a token that cannot
  // start a node).
  bool stuck() const {
    if (documents_.size() < 2) {
      return false;
    }
    const Document& a = documents_[documents_.size() - 2];
    const Document& b = documents_.back();
    return a.only_null && b.only_null && a.first.pos == b.first.pos;
  }

private:
  void node(const YAML::Mark& mark, bool is_null) {
    if (documents_.empty()) {
      documents_.emplace_back();
    }
    Document& document = documents_.back();
    if (!document.has_node) {
      document.first = mark;
      document.has_node = true;
    }
    document.only_null = document.only_null && is_null;
  }

  std::vector<Document> documents_;
};

// One load: checks the document structure, then hands each top-level section to
// its loader (sections.h), collecting every error.
LoadResult load(const std::string& text, const std::string& file) {
  YamlReader reader(file, text);
  LoadResult result;
  try {
    DocumentCounter counter;
    {
      std::istringstream input(text);
      YAML::Parser parser(input);
      // Three documents are enough to tell "more than one" and "stuck" apart.
      for (int i = 0; i < 3 && !counter.stuck() && parser.HandleNextDocument(counter); ++i) {
      }
    }
    const auto& documents = counter.documents();
    if (counter.stuck()) {
      reader.error(documents.back().first, "",
                   "YAML syntax error: unexpected character (a stray ',' or "
                   "similar outside [ ] "
                   "and { })");
    } else if (documents.empty()) {
      reader.addError(SourceLocation{file, 1, 1},
                      "the file is empty; expected a map with `clusters` and `links`");
    } else {
      if (documents.size() > 1) {
        reader.error(documents[1].first, "",
                     "the file holds more than one YAML document (---); a "
                     "configuration is "
                     "exactly one");
      }
      Config config = loadRoot(reader, YAML::Load(text));
      if (!reader.hasErrors()) {
        result.config = std::move(config);
      }
    }
  } catch (const YAML::Exception& e) {
    // Syntax errors (ParserException, DeepRecursion): the mark is where the
    // parser stopped.
    reader.error(e.mark, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    // Not expected (the walk checks every type before converting), but the
    // loader never throws.
    reader.addError(SourceLocation{file, 0, 0}, std::string("cannot load: ") + e.what());
  }
  if (reader.hasErrors()) {
    result.config.reset();
  }
  result.errors = reader.takeErrors();
  return result;
}

}  // namespace

Config loadRoot(YamlReader& reader, const YAML::Node& root) {
  Config config;
  if (root.IsNull()) {
    reader.addError(SourceLocation{reader.file(), 1, 1},
                    "the file has no settings; expected a map with `clusters` and `links`");
    return config;
  }
  auto object =
      reader.object(YamlReader::root(root), kTopLevelKeys, "a map with `clusters` and `links`");
  if (!object) {
    return config;
  }
  SectionContext context;
  if (const Field* registries = object->get("registries")) {
    loadRegistries(reader, *registries, config, context);
  }
  if (const Field* clusters = reader.require(*object, "clusters", "the Kafka clusters, by name")) {
    loadClusters(reader, *clusters, config, context);
  }
  // Before links, which name policies.
  if (const Field* policies = object->get("policies")) {
    loadPolicies(reader, *policies, config, context);
  }
  if (const Field* domains = object->get("domains")) {
    loadDomains(reader, *domains, config);
  }
  // A worker that only serves data products (egress) needs no link.
  if (const Field* links =
          object->get("egress") != nullptr
              ? object->get("links")
              : reader.require(*object, "links", "the list of replication links")) {
    loadLinks(reader, *links, config, context);
  }
  const Field* products = object->get("products");
  context.have_products = products == nullptr || products->node.IsSequence();
  if (products != nullptr) {
    loadProducts(reader, *products, config, context);
  }
  if (const Field* partners = object->get("partners")) {
    loadPartners(reader, *partners, config, context);
  }
  if (const Field* egress = object->get("egress")) {
    loadEgress(reader, *egress, config);
  }
  return config;
}

LoadResult loadConfigString(const std::string& yaml, const std::string& file_name) {
  return load(yaml, file_name);
}

LoadResult loadConfigFile(const std::string& path) {
  auto fail = [&](const std::string& message) {
    LoadResult result;
    result.errors.push_back(ConfigError{SourceLocation{path, 0, 0}, message});
    return result;
  };
  std::unique_ptr<std::FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "rb"),
                                                          &std::fclose);
  if (!file) {
    return fail(std::string("cannot open: ") + std::strerror(errno));
  }
  std::string text;
  std::array<char, 64 * 1024> buffer;
  while (true) {
    const size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    text.append(buffer.data(), n);
    if (text.size() > kMaxFileBytes) {
      return fail("cannot read: larger than " + std::to_string(kMaxFileBytes >> 20) +
                  " MiB, which is not a Causeway configuration");
    }
    if (n < buffer.size()) {
      if (std::ferror(file.get()) != 0) {
        return fail(std::string("cannot read: ") + std::strerror(errno));
      }
      break;
    }
  }
  return loadConfigString(text, path);
}

}  // namespace causeway::config
