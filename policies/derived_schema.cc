#include "policies/derived_schema.h"

#include "policies/predicate.h"
#include "policies/transforms.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

namespace causeway::policies {
namespace {

using Json = nlohmann::json;

// Deeper than any real contract; bounds work on hostile or cyclic ($ref) schemas.
constexpr int kMaxDepth = 32;

// A schema node a path leads to. `widened`: the node describes more than the addressed field
// (one `items` schema for every element), so a change must keep the original shape possible.
struct Target {
  Json* node;
  bool widened;
};

// Where a path ends: a property `name` of the object schema `parent`, or an element schema.
struct End {
  Json* parent;  // the object schema declaring the property; null for an element
  std::string name;
  Json* element;  // the element schema, when the path ends with an index
  bool widened;
};

bool allowsNull(const Json& node) {
  if (node.is_boolean()) {
    return node.get<bool>();
  }
  if (!node.is_object()) {
    return false;
  }
  const auto type = node.find("type");
  if (type == node.end()) {
    // No type: anything, null included, unless a composition says otherwise.
    for (const char* keyword : {"anyOf", "oneOf"}) {
      if (auto it = node.find(keyword); it != node.end() && it->is_array()) {
        return std::any_of(it->begin(), it->end(), [](const Json& b) { return allowsNull(b); });
      }
    }
    return !node.contains("const") && !node.contains("enum");
  }
  if (type->is_string()) {
    return *type == "null";
  }
  if (type->is_array()) {
    return std::find(type->begin(), type->end(), Json("null")) != type->end();
  }
  return false;
}

Json annotationsOf(const Json& original) {
  Json out = Json::object();
  if (original.is_object()) {
    for (const char* keyword : {"title", "description"}) {
      if (auto it = original.find(keyword); it != original.end()) {
        out[keyword] = *it;
      }
    }
  }
  return out;
}

Json constantOf(const config::FieldRuleConfig& rule) {
  switch (rule.value_kind) {
  case config::ConstantKind::kNull:
    return nullptr;
  case config::ConstantKind::kBool:
    return rule.value == "true";
  case config::ConstantKind::kNumber: {
    Json parsed = Json::parse(rule.value, nullptr, false);
    return parsed.is_number() ? parsed : Json(rule.value);
  }
  case config::ConstantKind::kString:
    break;
  }
  return rule.value;
}

// The schema of one field after `rule` (not kDrop).
Json transformed(const Json& original, const config::FieldRuleConfig& rule) {
  using config::FieldAction;
  switch (rule.action) {
  case FieldAction::kSet: {
    Json out = annotationsOf(original);
    out["const"] = constantOf(rule);
    return out;
  }
  case FieldAction::kTruncate: {
    // Only strings are truncated (anything else is a violation, never delivered): the type
    // stays and the length is capped.
    Json out = original.is_object() ? original : Json::object();
    const auto max = static_cast<uint64_t>(rule.max);
    if (auto it = out.find("maxLength");
        it == out.end() || !it->is_number_unsigned() || it->get<uint64_t>() > max) {
      out["maxLength"] = max;
    }
    if (auto it = out.find("minLength");
        it != out.end() && it->is_number_unsigned() && it->get<uint64_t>() > max) {
      out["minLength"] = max;
    }
    return out;
  }
  default: {
    // redact, mask, hash, encrypt, tokenize: the field becomes text (a null stays null).
    Json out = annotationsOf(original);
    out["type"] = allowsNull(original) ? Json::array({"string", "null"}) : Json("string");
    return out;
  }
  }
}

const char* actionWord(config::FieldAction action) {
  return actionName(static_cast<Action>(action));
}

class Deriver {
public:
  Deriver(Json root, PathRoot side) : root_(std::move(root)), side_(side) {}

  void apply(const config::FieldRuleConfig& rule) {
    const std::string label = rule.path.text + " (" + actionWord(rule.action) + ")";
    PredicateError error;
    auto path = parseFieldPath(rule.path.text, error);
    if (!path || path->root != side_) {
      return;  // another side, a header or a record field: not this schema's concern
    }
    if (path->segments.empty()) {
      problems_.push_back(label + ": applies to the whole payload; not described");
      return;
    }
    std::vector<Target> at = {{&root_, false}};
    std::string walked = rootName(side_);
    for (size_t i = 0; i + 1 < path->segments.size(); ++i) {
      const PathSegment& segment = path->segments[i];
      std::vector<Target> next;
      std::string problem;
      for (const Target& t : at) {
        if (segment.is_index) {
          elements(*t.node, segment.index, t.widened, next, problem, 0);
        } else {
          std::vector<Json*> parents;
          properties(*t.node, segment.name, parents, problem, 0);
          for (Json* parent : parents) {
            next.push_back({&(*parent)["properties"][segment.name], t.widened});
          }
        }
      }
      if (next.empty()) {
        problems_.push_back(label + ": " + notFound(segment, walked, problem));
        return;
      }
      walked += segmentText(segment);
      at = std::move(next);
    }
    const PathSegment& last = path->segments.back();
    std::vector<End> ends;
    std::string problem;
    for (const Target& t : at) {
      if (last.is_index) {
        std::vector<Target> found;
        elements(*t.node, last.index, t.widened, found, problem, 0);
        for (const Target& f : found) {
          ends.push_back({t.node, "", f.node, f.widened});
        }
      } else {
        std::vector<Json*> parents;
        properties(*t.node, last.name, parents, problem, 0);
        for (Json* parent : parents) {
          ends.push_back({parent, last.name, nullptr, t.widened});
        }
      }
    }
    if (ends.empty()) {
      problems_.push_back(label + ": " + notFound(last, walked, problem));
      return;
    }
    for (const End& end : ends) {
      change(end, rule, label);
    }
  }

  Json& root() { return root_; }
  bool changed() const { return changed_; }
  std::vector<std::string>& problems() { return problems_; }

private:
  static std::string segmentText(const PathSegment& segment) {
    if (segment.is_index) {
      return "[" + std::to_string(segment.index) + "]";
    }
    return isIdentifier(segment.name) ? "." + segment.name : "[\"" + segment.name + "\"]";
  }

  static std::string notFound(const PathSegment& segment, const std::string& walked,
                              const std::string& problem) {
    if (!problem.empty()) {
      return problem;
    }
    if (segment.is_index) {
      return "no array element " + std::to_string(segment.index) + " at " + walked +
             " in the schema";
    }
    return "no property '" + segment.name + "' at " + walked + " in the schema";
  }

  // Replaces a local {"$ref": "#/..."} in `node` by a copy of its target (keywords next to the
  // $ref win), so that changing it leaves the definition (and its other uses) as it was.
  bool inlineRef(Json& node, std::string& problem) {
    for (int hops = 0; node.is_object() && node.contains("$ref"); ++hops) {
      const Json& ref = node["$ref"];
      if (!ref.is_string() || hops > kMaxDepth) {
        problem = "a $ref that does not resolve";
        return false;
      }
      const std::string text = ref.get<std::string>();
      if (text.empty() || text[0] != '#') {
        problem = "goes through $ref \"" + text + "\" to another document; not described";
        return false;
      }
      Json target;
      try {
        const Json::json_pointer pointer(text.substr(1));
        if (!root_.contains(pointer)) {
          problem = "$ref \"" + text + "\" names nothing in the schema";
          return false;
        }
        target = root_.at(pointer);
      } catch (const Json::exception&) {
        problem = "$ref \"" + text + "\" is not a JSON pointer";
        return false;
      }
      node.erase("$ref");
      if (target.is_object()) {
        for (auto it = target.begin(); it != target.end(); ++it) {
          if (!node.contains(it.key())) {
            node[it.key()] = it.value();
          }
        }
      } else if (target.is_boolean() && !target.get<bool>()) {
        node["not"] = Json::object();
      }
    }
    return true;
  }

  // The object schemas at or under `node` (itself, allOf/anyOf/oneOf branches) declaring
  // property `name`.
  void properties(Json& node, const std::string& name, std::vector<Json*>& out,
                  std::string& problem, int depth) {
    if (depth > kMaxDepth || !inlineRef(node, problem) || !node.is_object()) {
      return;
    }
    if (auto it = node.find("properties");
        it != node.end() && it->is_object() && it->contains(name)) {
      if (!inlineRef((*it)[name], problem)) {
        return;
      }
      out.push_back(&node);
    }
    for (const char* keyword : {"allOf", "anyOf", "oneOf"}) {
      if (auto it = node.find(keyword); it != node.end() && it->is_array()) {
        for (Json& branch : *it) {
          properties(branch, name, out, problem, depth + 1);
        }
      }
    }
  }

  // The element schemas at or under the array schema `node` for position `index`.
  void elements(Json& node, uint32_t index, bool widened, std::vector<Target>& out,
                std::string& problem, int depth) {
    if (depth > kMaxDepth || !inlineRef(node, problem) || !node.is_object()) {
      return;
    }
    const auto prefix = node.find("prefixItems");
    const auto items = node.find("items");
    auto add = [&](Json& element, bool wide) {
      if (inlineRef(element, problem)) {
        out.push_back({&element, wide});
      }
    };
    if (prefix != node.end() && prefix->is_array() && index < prefix->size()) {
      add((*prefix)[index], widened);
    } else if (items != node.end() && items->is_array() && index < items->size()) {
      add((*items)[index], widened);  // draft 4-7 tuple
    } else if (prefix != node.end() && prefix->is_array() && items != node.end() &&
               (items->is_object() || items->is_boolean())) {
      add(*items, true);  // 2020-12: items after the prefix
    } else if (items != node.end() && items->is_array()) {
      if (auto extra = node.find("additionalItems");
          extra != node.end() && (extra->is_object() || extra->is_boolean())) {
        add(*extra, true);
      }
    } else if (items != node.end() && (items->is_object() || items->is_boolean())) {
      add(*items, true);
    }
    for (const char* keyword : {"allOf", "anyOf", "oneOf"}) {
      if (auto it = node.find(keyword); it != node.end() && it->is_array()) {
        for (Json& branch : *it) {
          elements(branch, index, widened, out, problem, depth + 1);
        }
      }
    }
  }

  static void removeRequired(Json& parent, const std::string& name) {
    auto required = parent.find("required");
    if (required == parent.end() || !required->is_array()) {
      return;
    }
    required->erase(std::remove(required->begin(), required->end(), Json(name)), required->end());
  }

  static void addRequired(Json& parent, const std::string& name) {
    Json& required = parent["required"];
    if (!required.is_array()) {
      required = Json::array();
    }
    if (std::find(required.begin(), required.end(), Json(name)) == required.end()) {
      required.push_back(name);
    }
  }

  void change(const End& end, const config::FieldRuleConfig& rule, const std::string& label) {
    const bool drop = rule.action == config::FieldAction::kDrop;
    if (end.element == nullptr) {
      changed_ = true;
      Json& parent = *end.parent;
      if (drop) {
        removeRequired(parent, end.name);
        if (!end.widened) {
          parent["properties"].erase(end.name);
        }
        return;
      }
      Json& field = parent["properties"][end.name];
      field = end.widened ? Json{{"anyOf", Json::array({field, transformed(field, rule)})}}
                          : transformed(field, rule);
      if (rule.action == config::FieldAction::kSet && !end.widened) {
        addRequired(parent, end.name);  // set inserts the member when it is missing
      }
      return;
    }
    if (drop) {
      // The element is removed and the ones after it move up: one item fewer at most.
      Json& array = *end.parent;
      if (end.widened && array.is_object() && !array.contains("prefixItems") &&
          !(array.contains("items") && array["items"].is_array())) {
        if (auto it = array.find("minItems");
            it != array.end() && it->is_number_unsigned() && it->get<uint64_t>() > 0) {
          *it = it->get<uint64_t>() - 1;
        }
        changed_ = true;
        return;
      }
      problems_.push_back(label + ": dropping a positional element moves the ones after it; "
                                  "not described");
      return;
    }
    changed_ = true;
    Json& element = *end.element;
    element = end.widened ? Json{{"anyOf", Json::array({element, transformed(element, rule)})}}
                          : transformed(element, rule);
  }

  Json root_;
  PathRoot side_;
  bool changed_ = false;
  std::vector<std::string> problems_;
};

}  // namespace

Result<DerivedSchema> deriveJsonSchema(std::string_view schema_text,
                                       const config::PolicyConfig& policy, PathRoot side) {
  Json root = Json::parse(schema_text, nullptr, false);
  if (root.is_discarded() || !(root.is_object() || root.is_boolean())) {
    return Error{"the contract's schema is not a JSON Schema (a JSON object or boolean)"};
  }
  DerivedSchema out;
  if (policy.mode == config::PolicyMode::kShadow) {
    out.schema = root.dump();
    return out;
  }
  Deriver deriver(std::move(root), side);
  bool changed = false;
  for (const auto& rule : policy.fields) {
    deriver.apply(rule);
    changed = changed || deriver.changed();
  }
  out.schema = deriver.root().dump();
  out.changed = changed;
  out.problems = std::move(deriver.problems());
  return out;
}

}  // namespace causeway::policies
