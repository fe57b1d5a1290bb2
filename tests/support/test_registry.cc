#include "tests/support/test_registry.h"

#include "schema/catalog.h"
#include "schema/registry_json.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace causeway::testing {
namespace {

using nlohmann::json;

std::string base64(const std::string& in) {
  static const char* kChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {kChars[v >> 18], kChars[(v >> 12) & 63], kChars[(v >> 6) & 63], kChars[v & 63]};
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += {kChars[v >> 18], kChars[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kChars[v >> 18], kChars[(v >> 12) & 63], kChars[(v >> 6) & 63], '='};
  }
  return out;
}

// ":.ctx:name" -> (".ctx", "name"); "name" -> ("", "name").
std::pair<std::string, std::string> splitContext(const std::string& subject) {
  if (subject.size() > 1 && subject[0] == ':') {
    const size_t end = subject.find(':', 1);
    if (end != std::string::npos) {
      return {subject.substr(1, end - 1), subject.substr(end + 1)};
    }
  }
  return {"", subject};
}

std::string qualified(const std::string& context, const std::string& name) {
  return context.empty() ? name : ":" + context + ":" + name;
}

void answer(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/vnd.schemaregistry.v1+json");
}

void refuse(httplib::Response& res, int status, int error_code, const std::string& message) {
  answer(res, status, json{{"error_code", error_code}, {"message", message}});
}

}  // namespace

TestRegistry::TestRegistry() : TestRegistry(Options{}) {}

TestRegistry::TestRegistry(Options options)
    : options_(std::move(options)), next_id_(options_.first_id) {
  if (!options_.tls_cert_file.empty()) {
    server_ = std::make_unique<httplib::SSLServer>(options_.tls_cert_file.c_str(),
                                                   options_.tls_key_file.c_str());
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  server_->set_tcp_nodelay(true);
  installRoutes();
  port_ = server_->bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // The socket already listens (connections queue); this only waits for the accept loop.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TestRegistry::~TestRegistry() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stopping_cv_.notify_all();
  server_->stop();
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::string TestRegistry::url() const {
  return (options_.tls_cert_file.empty() ? "http://127.0.0.1:" : "https://127.0.0.1:") +
         std::to_string(port_);
}

uint32_t TestRegistry::add(const std::string& subject, const schema::Schema& schema) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [context, name] = splitContext(subject);
  return addLocked(context, name, schema);
}

uint32_t TestRegistry::addLocked(const std::string& context_name, const std::string& name,
                                 const schema::Schema& schema) {
  Context& context = contexts_[context_name];
  std::optional<size_t> index;
  for (size_t i = 0; i < context.schemas.size(); ++i) {
    if (schema::sameSchema(context.schemas[i].schema, schema) &&
        context.schemas[i].schema.metadata == schema.metadata &&
        context.schemas[i].schema.rule_set == schema.rule_set) {
      index = i;
    }
  }
  if (!index) {
    Stored stored;
    stored.schema = schema;
    stored.id = next_id_++;
    for (size_t i = 0; i < 16; ++i) {
      stored.guid[i] = static_cast<uint8_t>((stored.id * 131u + i * 17u + port_) & 0xff);
    }
    context.schemas.push_back(std::move(stored));
    index = context.schemas.size() - 1;
  }
  auto& versions = context.subjects[name];
  if (std::find(versions.begin(), versions.end(), *index) == versions.end()) {
    versions.push_back(*index);
  }
  return context.schemas[*index].id;
}

const TestRegistry::Stored* TestRegistry::findLocked(const std::string& context,
                                                     uint32_t id) const {
  auto it = contexts_.find(context);
  if (it == contexts_.end()) {
    return nullptr;
  }
  for (const auto& stored : it->second.schemas) {
    if (stored.id == id) {
      return &stored;
    }
  }
  return nullptr;
}

std::optional<schema::Schema> TestRegistry::schemaById(uint32_t id,
                                                       const std::string& context) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Stored* stored = findLocked(context, id);
  return stored ? std::optional<schema::Schema>(stored->schema) : std::nullopt;
}

std::optional<schema::Guid> TestRegistry::guidOf(uint32_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Stored* stored = findLocked("", id);
  return stored ? std::optional<schema::Guid>(stored->guid) : std::nullopt;
}

void TestRegistry::setGuid(uint32_t id, const schema::Guid& guid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (const Stored* stored = findLocked("", id)) {
    const_cast<Stored*>(stored)->guid = guid;
  }
}

std::optional<schema::RegisteredSchema> TestRegistry::latest(const std::string& subject) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto [context_name, name] = splitContext(subject);
  auto context = contexts_.find(context_name);
  if (context == contexts_.end()) {
    return std::nullopt;
  }
  auto versions = context->second.subjects.find(name);
  if (versions == context->second.subjects.end() || versions->second.empty()) {
    return std::nullopt;
  }
  const Stored& stored = context->second.schemas[versions->second.back()];
  schema::RegisteredSchema out;
  out.schema = stored.schema;
  out.id = stored.id;
  out.guid = stored.guid;
  out.subject = subject;
  out.version = static_cast<int>(versions->second.size());
  return out;
}

std::vector<std::string> TestRegistry::subjects() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [context_name, context] : contexts_) {
    for (const auto& [name, versions] : context.subjects) {
      out.push_back(qualified(context_name, name));
    }
  }
  return out;
}

void TestRegistry::setCompatibility(CompatibilityCheck check) {
  std::lock_guard<std::mutex> lock(mu_);
  compatibility_ = std::move(check);
}

void TestRegistry::failNext(int count, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_next_ = count;
  fail_status_ = status;
}

void TestRegistry::setDown(bool down) {
  std::lock_guard<std::mutex> lock(mu_);
  down_ = down;
}

void TestRegistry::setDelay(std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ = delay;
}

std::vector<std::string> TestRegistry::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t TestRegistry::requestCount(const std::string& prefix) const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t count = 0;
  for (const auto& request : requests_) {
    count += request.rfind(prefix, 0) == 0 ? 1 : 0;
  }
  return count;
}

size_t TestRegistry::unauthorizedCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unauthorized_;
}

void TestRegistry::installRoutes() {
  // Every request passes here first: logging, credentials, injected failures and delays. This
  // runs before cpp-httplib reads a request's body, so an answer given here closes the
  // connection: a POST body left unread would otherwise be parsed as the next request on the
  // kept-alive connection (a 400 no real registry sends).
  auto refuseAndClose = [](httplib::Response& res, int status, int error_code,
                           const std::string& message) {
    refuse(res, status, error_code, message);
    res.set_header("Connection", "close");
  };
  server_->set_pre_routing_handler(
      [this, refuseAndClose](const httplib::Request& req, httplib::Response& res) {
        std::unique_lock<std::mutex> lock(mu_);
        requests_.push_back(req.method + " " + req.path);
        if (!options_.basic_user.empty() || !options_.bearer_token.empty()) {
          const std::string expected =
              !options_.bearer_token.empty()
                  ? "Bearer " + options_.bearer_token
                  : "Basic " + base64(options_.basic_user + ":" + options_.basic_password);
          if (req.get_header_value("Authorization") != expected) {
            ++unauthorized_;
            lock.unlock();
            refuseAndClose(res, 401, 40101, "Unauthorized");
            return httplib::Server::HandlerResponse::Handled;
          }
        }
        if (delay_.count() > 0) {
          stopping_cv_.wait_for(lock, delay_, [this] { return stopping_; });
        }
        if (down_ || fail_next_ > 0) {
          const int status = down_ ? 503 : fail_status_;
          if (!down_) {
            --fail_next_;
          }
          lock.unlock();
          refuseAndClose(res, status, status * 100 + 1, "injected failure");
          return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });

  server_->Get(R"(/schemas/ids/(\d+))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 const auto id = static_cast<uint32_t>(std::stoul(req.matches[1].str()));
                 const std::string context = splitContext(req.get_param_value("subject")).first;
                 std::lock_guard<std::mutex> lock(mu_);
                 const Stored* stored = findLocked(context, id);
                 if (stored == nullptr) {
                   return refuse(res, 404, 40403, "Schema " + std::to_string(id) + " not found");
                 }
                 json body = schema::schemaToJson(stored->schema);
                 body["guid"] = schema::guidText(stored->guid);
                 answer(res, 200, body);
               });

  server_->Get(R"(/schemas/guids/([0-9a-fA-F-]+))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 schema::Guid guid;
                 if (!schema::parseGuid(req.matches[1].str(), guid)) {
                   return refuse(res, 404, 40403, "Schema not found");
                 }
                 std::lock_guard<std::mutex> lock(mu_);
                 for (const auto& [name, context] : contexts_) {
                   for (const auto& stored : context.schemas) {
                     if (stored.guid == guid) {
                       json body = schema::schemaToJson(stored.schema);
                       body["id"] = stored.id;
                       return answer(res, 200, body);
                     }
                   }
                 }
                 refuse(res, 404, 40403, "Schema not found");
               });

  server_->Get(R"(/subjects/([^/]+)/versions/(latest|\d+))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 const std::string subject = req.matches[1].str();
                 auto [context_name, name] = splitContext(subject);
                 std::lock_guard<std::mutex> lock(mu_);
                 auto context = contexts_.find(context_name);
                 if (context == contexts_.end() || !context->second.subjects.count(name)) {
                   return refuse(res, 404, 40401, "Subject '" + subject + "' not found.");
                 }
                 const auto& versions = context->second.subjects[name];
                 size_t version = versions.size();
                 if (req.matches[2].str() != "latest") {
                   version = std::stoul(req.matches[2].str());
                 }
                 if (version == 0 || version > versions.size()) {
                   return refuse(res, 404, 40402, "Version not found.");
                 }
                 const Stored& stored = context->second.schemas[versions[version - 1]];
                 json body = schema::schemaToJson(stored.schema);
                 body["subject"] = subject;
                 body["version"] = version;
                 body["id"] = stored.id;
                 body["guid"] = schema::guidText(stored.guid);
                 answer(res, 200, body);
               });

  server_->Post(R"(/subjects/([^/]+)/versions)", [this](const httplib::Request& req,
                                                        httplib::Response& res) {
    const std::string subject = req.matches[1].str();
    std::string problem;
    auto parsed = json::parse(req.body, nullptr, false);
    auto candidate = schema::schemaFromJson(parsed, problem);
    if (!candidate) {
      return refuse(res, 422, 42201, "Invalid schema: " + problem);
    }
    auto [context_name, name] = splitContext(subject);
    std::lock_guard<std::mutex> lock(mu_);
    Context& context = contexts_[context_name];
    if (auto versions = context.subjects.find(name);
        versions != context.subjects.end() && !versions->second.empty() && compatibility_) {
      const Stored& latest = context.schemas[versions->second.back()];
      if (!schema::sameSchema(latest.schema, *candidate)) {
        auto verdict = compatibility_(subject, latest.schema, *candidate);
        if (!verdict.compatible) {
          std::string message = "Schema being registered is incompatible with an earlier schema";
          for (const auto& m : verdict.messages) {
            message += "; " + m;
          }
          return refuse(res, 409, 409, message);
        }
      }
    }
    for (const auto& ref : candidate->references) {
      auto [ref_context, ref_name] = splitContext(ref.subject);
      auto ctx = contexts_.find(ref_context);
      if (ctx == contexts_.end() || !ctx->second.subjects.count(ref_name) || ref.version < 1 ||
          static_cast<size_t>(ref.version) > ctx->second.subjects[ref_name].size()) {
        return refuse(res, 422, 42201,
                      "Invalid schema: reference " + ref.subject + " version " +
                          std::to_string(ref.version) + " not found");
      }
    }
    const uint32_t id = addLocked(context_name, name, *candidate);
    answer(res, 200, json{{"id", id}});
  });

  server_->Post(
      R"(/subjects/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
        const std::string subject = req.matches[1].str();
        std::string problem;
        auto candidate = schema::schemaFromJson(json::parse(req.body, nullptr, false), problem);
        if (!candidate) {
          return refuse(res, 422, 42201, "Invalid schema: " + problem);
        }
        auto [context_name, name] = splitContext(subject);
        std::lock_guard<std::mutex> lock(mu_);
        auto context = contexts_.find(context_name);
        if (context == contexts_.end() || !context->second.subjects.count(name)) {
          return refuse(res, 404, 40401, "Subject '" + subject + "' not found.");
        }
        const auto& versions = context->second.subjects[name];
        for (size_t v = 0; v < versions.size(); ++v) {
          const Stored& stored = context->second.schemas[versions[v]];
          if (schema::sameSchema(stored.schema, *candidate)) {
            json body = schema::schemaToJson(stored.schema);
            body["subject"] = subject;
            body["version"] = v + 1;
            body["id"] = stored.id;
            return answer(res, 200, body);
          }
        }
        refuse(res, 404, 40403, "Schema not found");
      });

  server_->Post(R"(/compatibility/subjects/([^/]+)/versions/latest)", [this](
                                                                          const httplib::Request&
                                                                              req,
                                                                          httplib::Response& res) {
    const std::string subject = req.matches[1].str();
    std::string problem;
    auto candidate = schema::schemaFromJson(json::parse(req.body, nullptr, false), problem);
    if (!candidate) {
      return refuse(res, 422, 42201, "Invalid schema: " + problem);
    }
    auto [context_name, name] = splitContext(subject);
    std::lock_guard<std::mutex> lock(mu_);
    auto context = contexts_.find(context_name);
    if (context == contexts_.end() || !context->second.subjects.count(name)) {
      return refuse(res, 404, 40401, "Subject '" + subject + "' not found.");
    }
    const Stored& latest = context->second.schemas[context->second.subjects[name].back()];
    schema::CompatibilityResult verdict{true, {}};
    if (compatibility_) {
      verdict = compatibility_(subject, latest.schema, *candidate);
    }
    answer(res, 200, json{{"is_compatible", verdict.compatible}, {"messages", verdict.messages}});
  });
}

}  // namespace causeway::testing
