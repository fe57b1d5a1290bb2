#include "policies/json_schema_types.h"

#include <algorithm>
#include <set>
#include <vector>

namespace causeway::policies {
namespace {

using Json = nlohmann::json;

constexpr int kMaxDepth = 32;  // bounds cyclic `$ref`s
// Bounds the nodes one path visits: branches that refer back to themselves
// ({"anyOf": [{"$ref": "#"}, {"$ref": "#"}]}) would otherwise double at every level.
constexpr size_t kMaxVisits = 10000;

// Where a path stands: the schema nodes the value there must satisfy (one of them, for
// branches), expanded through local $refs and compositions. `open`: some node allows anything
// there, so nothing can be ruled out.
struct Position {
  std::vector<const Json*> nodes;
  bool open = false;
};

class Resolver {
public:
  explicit Resolver(const Json& root) : root_(root) {}

  // `node` with its local $ref followed, and the branches of its compositions, into `out`.
  void expand(const Json* node, Position& out, int depth = 0) const {
    if (depth > kMaxDepth || ++visits_ > kMaxVisits) {
      out.open = true;
      return;
    }
    if (node->is_boolean()) {
      out.open = out.open || node->get<bool>();
      return;
    }
    if (!node->is_object()) {
      out.open = true;
      return;
    }
    if (auto ref = node->find("$ref"); ref != node->end()) {
      const Json* target = local(*ref);
      if (target == nullptr) {
        out.open = true;  // another document: not known here
      } else {
        expand(target, out, depth + 1);
      }
    }
    bool composed = false;
    for (const char* keyword : {"allOf", "anyOf", "oneOf"}) {
      if (auto branches = node->find(keyword); branches != node->end() && branches->is_array()) {
        composed = true;
        for (const Json& branch : *branches) {
          expand(&branch, out, depth + 1);
        }
      }
    }
    const bool constrains = node->contains("type") || node->contains("properties") ||
                            node->contains("additionalProperties") || node->contains("items") ||
                            node->contains("prefixItems") || node->contains("enum") ||
                            node->contains("const");
    if (constrains) {
      out.nodes.push_back(node);
    } else if (!composed && !node->contains("$ref")) {
      out.open = true;  // {} or annotations only: anything
    }
  }

  const Json* local(const Json& ref) const {
    if (!ref.is_string()) {
      return nullptr;
    }
    const std::string text = ref.get<std::string>();
    if (text == "#") {
      return &root_;
    }
    if (text.rfind("#/", 0) != 0) {
      return nullptr;
    }
    try {
      const Json& target = root_.at(Json::json_pointer(text.substr(1)));
      return &target;
    } catch (const Json::exception&) {
      return nullptr;
    }
  }

private:
  const Json& root_;
  mutable size_t visits_ = 0;
};

bool allowsType(const Json& node, std::string_view type) {
  auto t = node.find("type");
  if (t == node.end()) {
    return true;
  }
  if (t->is_string()) {
    return *t == type || (type == "number" && *t == "integer");
  }
  if (t->is_array()) {
    for (const Json& each : *t) {
      if (each == type || (type == "number" && each == "integer")) {
        return true;
      }
    }
  }
  return false;
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

FieldType typeFromName(const std::string& name) {
  if (name == "string") {
    return FieldType::kString;
  }
  if (name == "number" || name == "integer") {
    return FieldType::kNumber;
  }
  if (name == "boolean") {
    return FieldType::kBool;
  }
  if (name == "object") {
    return FieldType::kObject;
  }
  if (name == "array") {
    return FieldType::kArray;
  }
  return FieldType::kAny;  // null
}

// The one type every node allows, or kAny.
FieldType typeOfNodes(const Position& at) {
  if (at.open || at.nodes.empty()) {
    return FieldType::kAny;
  }
  std::set<FieldType> types;
  for (const Json* node : at.nodes) {
    auto t = node->find("type");
    if (t == node->end() || !t->is_string()) {
      return FieldType::kAny;  // untyped, or several types (a nullable field)
    }
    types.insert(typeFromName(t->get<std::string>()));
  }
  return types.size() == 1 ? *types.begin() : FieldType::kAny;
}

}  // namespace

Result<std::unique_ptr<JsonSchemaTypes>> JsonSchemaTypes::make(std::string_view schema_text,
                                                               PathRoot side, std::string what) {
  Json root = Json::parse(schema_text, nullptr, false);
  if (root.is_discarded() || !(root.is_object() || root.is_boolean())) {
    return Error{what + " is not a JSON Schema (a JSON object or boolean)"};
  }
  return std::unique_ptr<JsonSchemaTypes>(new JsonSchemaTypes(std::move(root), side, what));
}

std::optional<FieldType> JsonSchemaTypes::typeOf(const FieldPath& path,
                                                 std::string& problem) const {
  if (path.root != side_) {
    return FieldTypes::typeOf(path, problem);
  }
  const Resolver resolver(root_);
  Position at;
  resolver.expand(&root_, at);
  std::string where = path.root == PathRoot::kKey ? "key" : "value";
  for (const PathSegment& segment : path.segments) {
    if (at.open) {
      return FieldType::kAny;
    }
    Position next;
    std::vector<std::string> names;  // the members the closed schemas declare, for a hint
    bool any_container = false;
    for (const Json* node : at.nodes) {
      if (!segment.is_index) {
        if (!allowsType(*node, "object")) {
          continue;
        }
        any_container = true;
        auto properties = node->find("properties");
        if (properties != node->end() && properties->is_object()) {
          if (auto member = properties->find(segment.name); member != properties->end()) {
            resolver.expand(&*member, next);
            continue;
          }
          for (const auto& [name, unused] : properties->items()) {
            names.push_back(name);
          }
        }
        auto additional = node->find("additionalProperties");
        const bool closed = additional != node->end() && additional->is_boolean() &&
                            !additional->get<bool>() && !node->contains("patternProperties");
        if (!closed) {
          if (additional != node->end() && additional->is_object()) {
            resolver.expand(&*additional, next);  // a map's values
          } else {
            next.open = true;
          }
        }
      } else {
        if (!allowsType(*node, "array")) {
          continue;
        }
        any_container = true;
        auto prefix = node->find("prefixItems");
        auto items = node->find("items");
        if (prefix != node->end() && prefix->is_array() && segment.index < prefix->size()) {
          resolver.expand(&(*prefix)[segment.index], next);
        } else if (items != node->end() && items->is_array()) {
          if (segment.index < items->size()) {
            resolver.expand(&(*items)[segment.index], next);
          } else {
            next.open = true;  // draft 4-7 additionalItems: not followed
          }
        } else if (items != node->end()) {
          resolver.expand(&*items, next);
        } else {
          next.open = true;
        }
      }
    }
    const std::string segment_text =
        segment.is_index ? "[" + std::to_string(segment.index) + "]" : "." + segment.name;
    if (!next.open && next.nodes.empty()) {
      if (!any_container) {
        problem = where + " is " + (segment.is_index ? "not an array" : "not an object") + " in " +
                  what_ + ", so it has no " +
                  (segment.is_index ? "elements" : "field '" + segment.name + "'");
        return std::nullopt;
      }
      problem = segment.is_index ? "no element " + segment_text + " at " + where + " in " + what_
                                 : "no field '" + segment.name + "' at " + where + " in " + what_;
      if (!segment.is_index) {
        std::string best;
        size_t best_distance = 3;
        for (const std::string& name : names) {
          const size_t distance = editDistance(name, segment.name);
          if (distance < best_distance) {
            best = name;
            best_distance = distance;
          }
        }
        if (!best.empty()) {
          problem += "; did you mean '" + best + "'?";
        }
      }
      return std::nullopt;
    }
    at = std::move(next);
    where += segment_text;
  }
  return typeOfNodes(at);
}

}  // namespace causeway::policies
