#include "config/sections.h"

#include <algorithm>

namespace causeway::config {
namespace {

const std::vector<std::string> kPartnerKeys = {"policy", "products", "auth", "max_connections"};
const std::vector<std::string> kAuthKeys = {"tokens_file", "jwt"};
const std::vector<std::string> kJwtKeys = {"issuer",      "audience",       "jwks_file",
                                           "secret_file", "products_claim", "clock_skew"};
const KeysRegistration kPartnerKeysRegistration("partners.<name>", kPartnerKeys);
const KeysRegistration kAuthKeysRegistration("partners.<name>.auth", kAuthKeys);
const KeysRegistration kJwtKeysRegistration("partners.<name>.auth.jwt", kJwtKeys);

// A relative path is relative to the configuration file, not to the working directory (as
// policies' key files are).
std::string nextToConfig(const YamlReader& r, const std::string& path) {
  const size_t slash = r.file().rfind('/');
  return path.empty() || path[0] == '/' || slash == std::string::npos
             ? path
             : r.file().substr(0, slash + 1) + path;
}

// A path to a file holding a secret. The loader never reads it (egress::checkConfig does): a
// config that names a file checks on any machine.
void secretFile(YamlReader& r, const Object& object, const std::string& key, std::string& out,
                SourceLocation& where) {
  if (const Field* field = object.get(key)) {
    where = r.location(field->mark);
    if (auto text = r.nonEmptyString(*field)) {
      out = nextToConfig(r, trim(*text));
    }
  }
}

void loadJwt(YamlReader& r, const Field& field, PartnerJwtConfig& jwt) {
  jwt.location = r.location(field.key_mark);
  auto object =
      r.object(field, kJwtKeys, "a map with issuer, audience and jwks_file and/or secret_file");
  if (!object) {
    return;
  }
  if (const Field* issuer = r.require(*object, "issuer", "the `iss` every token must carry")) {
    if (auto text = r.nonEmptyString(*issuer)) {
      jwt.issuer = *text;
    }
  }
  if (const Field* audience = r.require(*object, "audience", "the `aud` every token must carry")) {
    if (auto text = r.nonEmptyString(*audience)) {
      jwt.audience = *text;
    }
  }
  secretFile(r, *object, "jwks_file", jwt.jwks_file, jwt.jwks_file_location);
  secretFile(r, *object, "secret_file", jwt.secret_file, jwt.secret_file_location);
  if (object->get("jwks_file") == nullptr && object->get("secret_file") == nullptr) {
    r.error(object->mark, object->path,
            "name the keys that sign the tokens: jwks_file (RS256/ES256) and/or secret_file "
            "(HS256)");
  }
  if (const Field* claim = object->get("products_claim")) {
    if (auto text = r.nonEmptyString(*claim)) {
      jwt.products_claim = *text;
    }
  }
  r.duration(object->get("clock_skew"), jwt.clock_skew);
}

void loadAuth(YamlReader& r, const Field& field, PartnerAuthConfig& auth) {
  auth.location = r.location(field.key_mark);
  auto object = r.object(field, kAuthKeys, "a map with tokens_file and/or jwt");
  if (!object) {
    return;
  }
  secretFile(r, *object, "tokens_file", auth.tokens_file, auth.tokens_file_location);
  if (const Field* jwt = object->get("jwt")) {
    auth.jwt.emplace();
    loadJwt(r, *jwt, *auth.jwt);
  }
  if (object->get("tokens_file") == nullptr && object->get("jwt") == nullptr) {
    r.error(object->mark, object->path,
            "a partner needs a way to authenticate: tokens_file and/or jwt");
  }
}

}  // namespace

void loadPartners(YamlReader& r, const Field& field, Config& config,
                  const SectionContext& context) {
  if (!field.node.IsMap()) {
    r.typeError(field, "a map of partner name -> partner settings");
    return;
  }
  std::vector<std::pair<std::string, const Field*>> jwt_fields;
  auto partners = r.entries(field);
  for (auto& [name, value] : partners) {
    PartnerConfig partner;
    partner.name = name;
    partner.location = r.location(value.key_mark);
    if (!isValidName(name)) {
      r.error(value.key_mark, value.path,
              "partner names may only use letters, digits, '.', '_' and '-' (they appear in "
              "metric labels and audit lines)");
    }
    auto object = r.object(value, kPartnerKeys, "a map of partner settings");
    if (!object) {
      config.partners.emplace(name, std::move(partner));
      continue;
    }
    if (const Field* policy = object->get("policy")) {
      if (auto text = r.nonEmptyString(*policy)) {
        if (std::find(context.policy_names.begin(), context.policy_names.end(), *text) ==
            context.policy_names.end()) {
          r.error(*policy, "unknown policy " + quoted(*text) +
                               (context.policy_names.empty()
                                    ? std::string("; define it under the top-level `policies:`")
                                    : suggestion(*text, context.policy_names, "the policies are")));
        }
        partner.policy = *text;
      }
    }
    if (const Field* products =
            r.require(*object, "products", "the names of the products this partner may read")) {
      if (auto items = r.items(*products, "a list of product names")) {
        for (const Field& item : *items) {
          auto product = r.string(item);
          if (!product) {
            continue;
          }
          if (context.have_products &&
              std::find(context.product_names.begin(), context.product_names.end(), *product) ==
                  context.product_names.end()) {
            r.error(item, "unknown product " + quoted(*product) +
                              suggestion(*product, context.product_names, "the products are"));
            continue;
          }
          if (std::find(partner.products.begin(), partner.products.end(), *product) !=
              partner.products.end()) {
            r.error(item, "product " + quoted(*product) + " is listed twice");
            continue;
          }
          partner.products.push_back(*product);
        }
      }
    }
    if (const Field* auth = r.require(*object, "auth", "how the partner authenticates")) {
      loadAuth(r, *auth, partner.auth);
    }
    r.positiveCount(object->get("max_connections"), partner.max_connections, false);
    config.partners.emplace(name, std::move(partner));
  }
  // A JWT names its partner by issuer and audience: two partners that accept the same pair
  // could each read the other's products.
  std::map<std::pair<std::string, std::string>, std::string> seen;
  for (const auto& [name, partner] : config.partners) {
    if (!partner.auth.jwt || partner.auth.jwt->issuer.empty()) {
      continue;
    }
    const auto key = std::pair(partner.auth.jwt->issuer, partner.auth.jwt->audience);
    auto [it, inserted] = seen.emplace(key, name);
    if (!inserted) {
      r.addError(partner.auth.jwt->location,
                 "partners." + name + ".auth.jwt: partner " + quoted(it->second) +
                     " accepts tokens of the same issuer and audience; give each partner its "
                     "own audience so a token names exactly one partner");
    }
  }
}

}  // namespace causeway::config
