#include "policies/avro_policy_schema.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace causeway::policies {

namespace {

using json = nlohmann::json;
using Kind = schema::AvroNode::Kind;

const std::map<std::string, Kind, std::less<>>& primitives() {
  static const std::map<std::string, Kind, std::less<>> names = {
      {"null", Kind::kNull},   {"boolean", Kind::kBoolean}, {"int", Kind::kInt},
      {"long", Kind::kLong},   {"float", Kind::kFloat},     {"double", Kind::kDouble},
      {"bytes", Kind::kBytes}, {"string", Kind::kString}};
  return names;
}

const char* kindWord(Kind kind) {
  switch (kind) {
  case Kind::kNull:
    return "null";
  case Kind::kBoolean:
    return "boolean";
  case Kind::kLong:
    return "long";
  case Kind::kDouble:
    return "double";
  default:
    return "string";
  }
}

// Member `key` of `object` when it is a string, else "".
std::string text(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// How deeply `text` nests arrays and objects (strings skipped), counted without parsing: the
// derivation walks the document recursively, so deeper documents are refused first.
size_t nesting(std::string_view text) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

std::string fullName(const std::string& name, const std::string& ns) {
  if (name.find('.') != std::string::npos || ns.empty()) {
    return name;
  }
  return ns + "." + name;
}

std::string namespaceOf(const std::string& full) {
  size_t dot = full.rfind('.');
  return dot == std::string::npos ? "" : full.substr(0, dot);
}

// The named types a schema document defines, and how often each is used by name.
class NamedTypes {
public:
  void index(json& type, const std::string& ns) {
    if (type.is_string()) {
      const std::string& name = type.get_ref<const std::string&>();
      if (primitives().count(name) == 0) {
        uses_.emplace_back(name, ns);
      }
      return;
    }
    if (type.is_array()) {
      for (json& branch : type) {
        index(branch, ns);
      }
      return;
    }
    if (!type.is_object() || !type.contains("type")) {
      return;
    }
    json& t = type["type"];
    if (!t.is_string()) {
      index(t, ns);
      return;
    }
    const std::string& word = t.get_ref<const std::string&>();
    if (word == "record" || word == "error" || word == "enum" || word == "fixed") {
      if (!type.contains("name") || !type["name"].is_string()) {
        return;
      }
      const std::string own_ns = type.contains("namespace") && type["namespace"].is_string()
                                     ? type["namespace"].get<std::string>()
                                     : ns;
      const std::string full = fullName(type["name"].get<std::string>(), own_ns);
      defined_[full] = &type;
      if ((word == "record" || word == "error") && type.contains("fields") &&
          type["fields"].is_array()) {
        for (json& field : type["fields"]) {
          if (field.is_object() && field.contains("type")) {
            index(field["type"], namespaceOf(full));
          }
        }
      }
    } else if (word == "array" && type.contains("items")) {
      index(type["items"], ns);
    } else if (word == "map" && type.contains("values")) {
      index(type["values"], ns);
    } else if (primitives().count(word) == 0) {
      uses_.emplace_back(word, ns);
    }
  }

  // The full name `name` stands for in namespace `ns`, as Avro resolves it (and
  // schema::AvroModel): `ns.name` when defined, else `name` in the null namespace.
  std::string resolve(const std::string& name, const std::string& ns) const {
    const std::string full = fullName(name, ns);
    if (defined_.count(full) == 0 && defined_.count(name) != 0) {
      return name;
    }
    return full;
  }

  const std::map<std::string, json*>& definitions() const { return defined_; }
  json* defined(const std::string& full) const {
    auto it = defined_.find(full);
    return it == defined_.end() ? nullptr : it->second;
  }
  // Used by name somewhere besides its definition.
  bool shared(const std::string& full) const {
    return std::any_of(uses_.begin(), uses_.end(),
                       [&](const auto& use) { return resolve(use.first, use.second) == full; });
  }

private:
  std::map<std::string, json*> defined_;
  std::vector<std::pair<std::string, std::string>> uses_;  // (name as written, namespace)
};

// A type as a path sees it: the JSON that defines it, its namespace and its full name when named.
struct TypeAt {
  json* type = nullptr;
  std::string ns;
  std::string name;  // full name of a named type
  // Defined by a schema reference (another subject's schema): it can be read, not changed.
  bool external = false;
};

// The word a type is (a primitive, "record", "array", ...) after following a name, or "" when
// it cannot be told (a name this document does not define: a schema reference).
std::string word(const TypeAt& at) {
  const json& t = *at.type;
  if (t.is_string()) {
    return t.get<std::string>();
  }
  if (t.is_object() && t.contains("type") && t["type"].is_string()) {
    return t["type"].get<std::string>();
  }
  return t.is_array() ? "union" : "";
}

class Deriver {
public:
  Deriver(json& doc, std::vector<json>& references, size_t slot_count) : doc_(doc) {
    result_.slots.resize(slot_count);
    named_.index(doc_, "");
    for (json& reference : references) {
      external_.index(reference, "");
    }
  }

  void apply(const TransformRule& rule) {
    if (rule.path.root != PathRoot::kValue || rule.path.segments.empty()) {
      return;
    }
    path_ = rule.path.text() + " (" + actionName(rule.action) + ")";
    TypeAt at{&doc_, "", "", false};
    json* field = nullptr;
    json* fields = nullptr;  // the array holding `field`
    bool in_collection = false;
    bool shared = false;
    bool external = false;  // the path goes through a type from a schema reference
    // The record fields on the way, with the position of the segment after each: their
    // defaults may hold the value the rule changes.
    std::vector<std::pair<json*, size_t>> ancestors;
    size_t position = 0;
    for (const PathSegment& segment : rule.path.segments) {
      ++position;
      if (!follow(at) || !unwrap(at)) {
        return;
      }
      const std::string w = word(at);
      if (!at.type->is_object()) {
        return;  // a primitive: no field below it
      }
      if (segment.is_index) {
        if (w != "array") {
          return;  // no record can hold the path: nothing to do
        }
        at = {&(*at.type)["items"], at.ns, "", at.external};
        field = nullptr;
        in_collection = true;
      } else if (w == "map") {
        at = {&(*at.type)["values"], at.ns, "", at.external};
        field = nullptr;
        in_collection = true;
      } else if (w == "record" || w == "error") {
        shared = shared || named_.shared(at.name);
        json& list = (*at.type)["fields"];
        field = nullptr;
        for (json& f : list) {
          if (f.is_object() && text(f, "name") == segment.name) {
            field = &f;
          }
        }
        if (field == nullptr) {
          if (rule.action == Action::kSet && position == rule.path.segments.size()) {
            problem("the writer's schema has no such field, and an Avro record cannot gain one");
          }
          return;
        }
        if (position < rule.path.segments.size()) {
          ancestors.emplace_back(field, position);
        }
        fields = &list;
        at = {&(*field)["type"], namespaceOf(at.name), "", at.external};
        external = external || at.external;
      } else {
        return;
      }
    }
    AvroSlotPlan& plan = result_.slots[rule.slot];
    if (rule.action == Action::kDrop) {
      if (external) {
        problem(kExternal);
        return;
      }
      if (!replaceable(at)) {
        return;
      }
      if (field == nullptr || in_collection || shared) {
        problem(field == nullptr ? "an array element or map value cannot be left out of an Avro "
                                   "record (its schema says it is there)"
                                 : whyShared(in_collection));
        return;
      }
      plan.change = AvroSlotPlan::Change::kRemove;
      fixDefaults(ancestors, rule, std::nullopt);
      for (auto it = fields->begin(); it != fields->end(); ++it) {
        if (&*it == field) {
          fields->erase(it);
          break;
        }
      }
      result_.changed = true;
      reindex();
      return;
    }
    Kind out = Kind::kString;
    if (rule.action == Action::kSet) {
      out = setKind(rule);
    }
    // The type the field has now: does it hold `out` already?
    TypeAt now = at;
    if (!follow(now)) {
      return;
    }
    const bool is_union = now.type->is_array();
    plan.kind = out;
    if (is_union) {
      int index = 0;
      for (json& branch : *now.type) {
        TypeAt b{&branch, now.ns, "", now.external};
        const std::string bw = follow(b, false) ? word(b) : "";
        if (bw == kindWord(out) && plain(b) && plan.branch < 0) {
          plan.branch = index;
        }
        if (bw == "null") {
          plan.null_branch = index;
        }
        ++index;
      }
      if (plan.branch >= 0) {
        return;
      }
    } else if (word(now) == kindWord(out) && plain(now)) {
      return;
    }
    if (external || in_collection || shared) {
      problem(external ? kExternal : whyShared(in_collection));
      return;
    }
    if (!replaceable(at)) {
      return;
    }
    const bool nullable =
        out != Kind::kNull && (is_union ? plan.null_branch >= 0 : word(now) == "null");
    plan.change = AvroSlotPlan::Change::kRetype;
    plan.branch = nullable ? 1 : -1;
    plan.null_branch = nullable ? 0 : -1;
    *at.type = nullable ? json::array({"null", kindWord(out)}) : json(kindWord(out));
    if (field != nullptr && field->contains("default")) {
      // Records on the target always hold the field, so the default only matters for schema
      // evolution: a field keeps having one (of its new type), as the registry's compatibility
      // check wants when a later writer version adds it.
      (*field)["default"] = nullable ? json(nullptr) : zero(out);
    }
    fixDefaults(ancestors, rule, nullable ? json(nullptr) : zero(out));
    result_.changed = true;
    reindex();
  }

  AvroPolicySchema finish() {
    result_.schema = doc_.dump();
    return std::move(result_);
  }

private:
  // A record field's default is a JSON object holding its fields' values: where the rule's
  // field is in the default of a record field on its path, it is given the new type's default
  // (`value`), or removed with the field (nullopt).
  static void fixDefaults(const std::vector<std::pair<json*, size_t>>& ancestors,
                          const TransformRule& rule, const std::optional<json>& value) {
    const std::vector<PathSegment>& segments = rule.path.segments;
    for (const auto& [ancestor, next] : ancestors) {
      auto found = ancestor->find("default");
      if (found == ancestor->end()) {
        continue;
      }
      json* at = &*found;
      for (size_t i = next; i + 1 < segments.size() && at != nullptr; ++i) {
        auto member = at->is_object() ? at->find(segments[i].name) : at->end();
        at = at->is_object() && member != at->end() ? &*member : nullptr;
      }
      if (at == nullptr || !at->is_object() || !at->contains(segments.back().name)) {
        continue;
      }
      if (value) {
        (*at)[segments.back().name] = *value;
      } else {
        at->erase(segments.back().name);
      }
    }
  }

  // Not a logical type: a plain string holds any text (a uuid or a decimal does not).
  static bool plain(const TypeAt& at) {
    return !(at.type->is_object() && at.type->contains("logicalType"));
  }

  static json zero(Kind kind) {
    switch (kind) {
    case Kind::kLong:
      return 0;
    case Kind::kDouble:
      return 0.0;
    case Kind::kBoolean:
      return false;
    case Kind::kNull:
      return nullptr;
    default:
      return "";
    }
  }

  static Kind setKind(const TransformRule& rule) {
    switch (rule.constant_kind) {
    case ValueKind::kNull:
      return Kind::kNull;
    case ValueKind::kBool:
      return Kind::kBoolean;
    case ValueKind::kNumber:
      return rule.replacement.find_first_of(".eE") == std::string::npos ? Kind::kLong
                                                                        : Kind::kDouble;
    default:
      return Kind::kString;
    }
  }

  std::string whyShared(bool in_collection) const {
    return in_collection ? "the type of an array element or map value cannot change for one "
                           "element (the others keep it)"
                         : "the path goes through a named record used in more than one place, "
                           "whose other uses keep their type";
  }

  // Whether the type at `at` can be replaced or left out: it defines no named type that is
  // used elsewhere (those uses would name a type the document no longer defines).
  bool replaceable(const TypeAt& at) {
    NamedTypes inside;
    inside.index(*at.type, at.ns);
    for (const auto& [name, def] : inside.definitions()) {
      if (named_.shared(name)) {
        problem("the field's type defines " + name + ", which is used elsewhere");
        return false;
      }
    }
    return true;
  }

  // After a change, the definitions' places are looked up afresh.
  void reindex() {
    named_ = NamedTypes();
    named_.index(doc_, "");
  }

  void problem(const std::string& why) { result_.problems.push_back(path_ + ": " + why); }

  // Follows a name to the type it defines; false (with a problem when `report`) for a name
  // this document does not define.
  bool follow(TypeAt& at, bool report = true) {
    std::string name;
    if (at.type->is_string()) {
      name = at.type->get<std::string>();
    } else if (at.type->is_object() && at.type->contains("type") &&
               (*at.type)["type"].is_string()) {
      const std::string& w = (*at.type)["type"].get_ref<const std::string&>();
      if (w == "record" || w == "error" || w == "enum" || w == "fixed") {
        const std::string own =
            at.type->contains("namespace") && (*at.type)["namespace"].is_string()
                ? (*at.type)["namespace"].get<std::string>()
                : at.ns;
        at.name = fullName(text(*at.type, "name"), own);
        return true;
      }
      if (primitives().count(w) != 0 || w == "array" || w == "map") {
        return true;
      }
      name = w;
    } else if (at.type->is_object() && at.type->contains("type")) {
      at.type = &(*at.type)["type"];
      return follow(at, report);
    } else {
      return true;  // a union
    }
    if (primitives().count(name) != 0) {
      return true;
    }
    std::string full = named_.resolve(name, at.ns);
    json* def = named_.defined(full);
    bool external = at.external;
    if (def == nullptr) {
      full = external_.resolve(name, at.ns);
      def = external_.defined(full);
      external = true;
    }
    if (def == nullptr) {
      if (report) {
        problem("goes through " + full + ", a type no schema reference defines");
      }
      return false;
    }
    at = {def, namespaceOf(full), full, external};
    return true;
  }

  // A union on the way to a field: the path goes into its one non-null branch.
  bool unwrap(TypeAt& at) {
    if (!at.type->is_array()) {
      return true;
    }
    json* only = nullptr;
    for (json& branch : *at.type) {
      TypeAt b{&branch, at.ns, "", at.external};
      if (follow(b, false) && word(b) == "null") {
        continue;
      }
      if (only != nullptr) {
        problem("goes through a union of several non-null types");
        return false;
      }
      only = &branch;
    }
    if (only == nullptr) {
      return false;
    }
    at.type = only;
    return follow(at);
  }

  static constexpr const char* kExternal =
      "it would change a type from a schema reference (another subject's schema)";

  json& doc_;
  NamedTypes named_;
  NamedTypes external_;  // the references' named types
  AvroPolicySchema result_;
  std::string path_;
};

}  // namespace

Result<AvroPolicySchema> deriveAvroSchema(std::string_view writer_text,
                                          const std::vector<std::string_view>& references,
                                          const std::vector<TransformRule>& rules,
                                          size_t slot_count) {
  std::vector<json> referenced;
  for (std::string_view text : references) {
    if (nesting(text) > kMaxAvroSchemaNesting) {
      return Error{"a schema reference nests deeper than " + std::to_string(kMaxAvroSchemaNesting) +
                   " levels"};
    }
    referenced.push_back(json::parse(text, nullptr, false));
    if (referenced.back().is_discarded()) {
      return Error{"a schema reference is not JSON"};
    }
  }
  if (nesting(writer_text) > kMaxAvroSchemaNesting) {
    return Error{"the schema nests deeper than " + std::to_string(kMaxAvroSchemaNesting) +
                 " levels"};
  }
  json doc = json::parse(writer_text, nullptr, false);
  if (doc.is_discarded() || !(doc.is_object() || doc.is_string() || doc.is_array())) {
    return Error{"not an Avro schema in JSON"};
  }
  Deriver deriver(doc, referenced, slot_count);
  for (const TransformRule& rule : rules) {
    if (rule.slot >= slot_count) {
      return Error{"rule " + rule.name + ": slot out of range"};
    }
    deriver.apply(rule);
  }
  return deriver.finish();
}

}  // namespace causeway::policies
