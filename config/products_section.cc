#include "config/sections.h"

#include <algorithm>

namespace causeway::config {
namespace {

// Product names appear in URLs, metric labels and Pushpin channel names.
constexpr size_t kMaxProductNameLength = 200;

const std::vector<std::string> kProductKeys = {"name",   "domain", "description",   "owner",
                                               "source", "topics", "freshness_slo", "headers"};
const KeysRegistration kProductKeysRegistration("products[]", kProductKeys);

}  // namespace

void loadProducts(YamlReader& r, const Field& field, Config& config, SectionContext& context) {
  auto items = r.items(field, "a list of data products");
  if (!items) {
    return;
  }
  std::map<std::string, int> first_line;
  for (const Field& item : *items) {
    ProductConfig product;
    product.location = r.location(item.mark);
    auto object = r.object(item, kProductKeys, "a map of product settings");
    if (!object) {
      continue;
    }
    if (const Field* name = r.require(*object, "name", "the product's unique name")) {
      if (auto text = r.string(*name)) {
        if (!isValidName(*text)) {
          r.error(*name, "product names may only use letters, digits, '.', '_' and '-' and "
                         "must not be empty (they appear in URLs and metric labels), found " +
                             quoted(*text));
        } else if (text->size() > kMaxProductNameLength) {
          r.error(*name, "product names may be at most " + std::to_string(kMaxProductNameLength) +
                             " characters");
        } else if (auto [seen, inserted] = first_line.emplace(*text, r.location(name->mark).line);
                   !inserted) {
          r.error(*name, "duplicate product name " + quoted(*text) + " (first defined at line " +
                             std::to_string(seen->second) + ")");
        }
        product.name = *text;
        context.product_names.push_back(*text);
      }
    }
    for (auto [key, out] :
         {std::pair{"domain", &product.domain}, std::pair{"description", &product.description},
          std::pair{"owner", &product.owner}}) {
      if (const Field* value = object->get(key)) {
        if (auto text = r.string(*value)) {
          *out = *text;
        }
      }
    }
    if (const Field* source = r.require(*object, "source", "the cluster its topics live in")) {
      clusterReference(r, *source, context, product.source);
    }
    if (const Field* topics = r.require(*object, "topics", "regexes of the product's topics")) {
      if (topics->node.IsSequence() && topics->node.size() == 0) {
        r.error(*topics, "must list at least one regex");
      } else {
        r.regexList(*topics, product.topics);
      }
    }
    r.duration(object->get("freshness_slo"), product.freshness_slo);
    if (const Field* headers = object->get("headers")) {
      r.stringList(*headers, product.headers, "a list of record header names");
    }
    config.products.push_back(std::move(product));
  }
}

}  // namespace causeway::config
