#include "schema/rest_registry.h"

#include "schema/registry_json.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <thread>

namespace causeway::schema {
namespace {

constexpr const char* kContentType = "application/vnd.schemaregistry.v1+json";
// Registry messages are quoted in errors; a page of HTML from a proxy is not worth more.
constexpr size_t kMaxQuotedMessage = 300;

std::string shorten(std::string text) {
  if (text.size() > kMaxQuotedMessage) {
    text.resize(kMaxQuotedMessage);
    text += "...";
  }
  for (char& c : text) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return text;
}

// The first line of a file, without its line ending.
Result<std::string> firstLine(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) {
    return Error{std::string("cannot read the ") + what + " file " + path};
  }
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
    line.pop_back();
  }
  if (line.empty()) {
    return Error{std::string("the ") + what + " file " + path + " is empty"};
  }
  return line;
}

bool changed(const std::string& path, std::timespec& mtime, off_t& size, bool& read) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return true;  // reading it reports the problem
  }
  const bool same = read && st.st_mtim.tv_sec == mtime.tv_sec &&
                    st.st_mtim.tv_nsec == mtime.tv_nsec && st.st_size == size;
  mtime = st.st_mtim;
  size = st.st_size;
  return !same;
}

const char* transportError(httplib::Error error) {
  switch (error) {
  case httplib::Error::Connection:
    return "cannot connect";
  case httplib::Error::ConnectionTimeout:
    return "connection timed out";
  case httplib::Error::Read:
    return "no answer (read failed or timed out)";
  case httplib::Error::Write:
    return "cannot send the request";
  case httplib::Error::SSLConnection:
    return "TLS handshake failed";
  case httplib::Error::SSLLoadingCerts:
    return "cannot load the TLS CA or client certificate";
  case httplib::Error::SSLServerVerification:
    return "the registry's TLS certificate did not verify";
  case httplib::Error::Canceled:
    return "canceled";
  default:
    return "request failed";
  }
}

}  // namespace

Result<std::unique_ptr<RestRegistry>> RestRegistry::create(const config::RegistryConfig& config) {
  const std::string& url = config.url;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return Error{"registry '" + config.name + "': url must start with http:// or https://"};
  }
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return Error{"registry '" + config.name + "': url must start with http:// or https://"};
  }
  const size_t host_start = scheme_end + 3;
  const size_t path_start = url.find('/', host_start);
  const std::string authority = url.substr(
      host_start, path_start == std::string::npos ? std::string::npos : path_start - host_start);
  if (authority.find('@') != std::string::npos) {
    // Never echo the URL here: it holds the credentials.
    return Error{"registry '" + config.name +
                 "': the url must not contain credentials; use auth.basic_file or "
                 "auth.bearer_token_file"};
  }
  if (authority.empty()) {
    return Error{"registry '" + config.name + "': the url has no host"};
  }
  std::string base_path = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!base_path.empty() && base_path.back() == '/') {
    base_path.pop_back();
  }
  std::unique_ptr<RestRegistry> registry(
      new RestRegistry(config, scheme + "://" + authority, std::move(base_path)));
  return registry;
}

RestRegistry::RestRegistry(config::RegistryConfig config, std::string origin, std::string base_path)
    : config_(std::move(config)), origin_(std::move(origin)), base_path_(std::move(base_path)) {
  if (!config_.tls.cert_file.empty()) {
    client_ =
        std::make_unique<httplib::Client>(origin_, config_.tls.cert_file, config_.tls.key_file);
  } else {
    client_ = std::make_unique<httplib::Client>(origin_);
  }
  client_->set_connection_timeout(config_.connect_timeout);
  client_->set_read_timeout(config_.timeout);
  client_->set_write_timeout(config_.timeout);
  client_->set_keep_alive(true);
  client_->set_tcp_nodelay(true);  // headers and body go out as separate writes
  if (origin_.rfind("https://", 0) == 0) {
    client_->enable_server_certificate_verification(true);
    if (!config_.tls.ca_file.empty()) {
      client_->set_ca_cert_path(config_.tls.ca_file);
    }
  }
}

RestRegistry::~RestRegistry() = default;

std::string RestRegistry::identity() const {
  return "rest:" + origin_ + base_path_ + (config_.context.empty() ? "" : "#" + config_.context);
}

std::string RestRegistry::qualify(std::string_view subject) const {
  if (config_.context.empty() || (!subject.empty() && subject[0] == ':')) {
    return std::string(subject);
  }
  return ":" + config_.context + ":" + std::string(subject);
}

void RestRegistry::interrupt() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    interrupted_ = true;
  }
  cv_.notify_all();
  client_->stop();
}

bool RestRegistry::sleepInterruptibly(std::chrono::milliseconds duration) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, duration, [this] { return interrupted_; });
}

Status RestRegistry::refreshCredentials() {
  const auto& auth = config_.auth;
  if (!auth.basic_file.empty() &&
      changed(auth.basic_file, basic_stamp_.mtime, basic_stamp_.size, basic_stamp_.read)) {
    auto line = firstLine(auth.basic_file, "basic auth");
    if (!line) {
      basic_stamp_.read = false;
      return line.error();
    }
    const size_t colon = line->find(':');
    if (colon == std::string::npos) {
      basic_stamp_.read = false;
      return Error{"the basic auth file " + auth.basic_file +
                   " must hold user:password on its first line"};
    }
    client_->set_basic_auth(line->substr(0, colon), line->substr(colon + 1));
    basic_stamp_.read = true;
  }
  if (!auth.bearer_token_file.empty() && changed(auth.bearer_token_file, bearer_stamp_.mtime,
                                                 bearer_stamp_.size, bearer_stamp_.read)) {
    auto line = firstLine(auth.bearer_token_file, "bearer token");
    if (!line) {
      bearer_stamp_.read = false;
      return line.error();
    }
    client_->set_bearer_token_auth(*line);
    bearer_stamp_.read = true;
  }
  return Status::success();
}

RegistryError RestRegistry::error(RegistryErrc code, int status, int error_code,
                                  const std::string& what) const {
  return RegistryError{code, status, error_code,
                       "registry '" + config_.name + "' (" + origin_ + base_path_ + "): " + what};
}

RegistryResult<RestRegistry::Answer>
RestRegistry::attempt(const std::string& method, const std::string& path, const std::string* body) {
  const httplib::Headers headers = {{"Accept", kContentType}};
  httplib::Result result =
      method == "GET" ? client_->Get(path, headers)
                      : client_->Post(path, headers, body ? *body : std::string(), kContentType);
  if (!result) {
    return error(RegistryErrc::kUnavailable, 0, 0,
                 method + " " + path + ": " + transportError(result.error()));
  }
  return Answer{result->status, result->body};
}

RegistryResult<nlohmann::json> RestRegistry::call(const std::string& method,
                                                  const std::string& path_and_query,
                                                  const std::string* body) {
  const std::string path = base_path_ + path_and_query;
  // For messages: the request without its query.
  const std::string request = method + " " + path.substr(0, path.find('?'));
  std::chrono::milliseconds backoff = config_.retry_backoff;
  for (int attempt_no = 0;; ++attempt_no) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (interrupted_) {
        return error(RegistryErrc::kUnavailable, 0, 0, request + ": interrupted (shutting down)");
      }
    }
    if (auto credentials = refreshCredentials(); !credentials) {
      return error(RegistryErrc::kUnauthorized, 0, 0, credentials.message());
    }
    auto answer = attempt(method, path, body);
    RegistryError failure;
    if (!answer) {
      failure = answer.error();
    } else if (answer->status >= 200 && answer->status < 300) {
      auto parsed = nlohmann::json::parse(answer->body, nullptr, false);
      if (parsed.is_discarded()) {
        return error(RegistryErrc::kBadResponse, answer->status, 0,
                     request + ": the answer is not JSON");
      }
      return parsed;
    } else {
      // The registry's own words: {"error_code": 40401, "message": "Subject 'x' not found."}
      int error_code = 0;
      std::string message;
      auto parsed = nlohmann::json::parse(answer->body, nullptr, false);
      if (parsed.is_object()) {
        if (auto code = parsed.find("error_code"); code != parsed.end() && code->is_number()) {
          error_code = code->get<int>();
        }
        if (auto text = parsed.find("message"); text != parsed.end() && text->is_string()) {
          message = text->get<std::string>();
        }
      }
      if (message.empty()) {
        message = answer->body.empty() ? "no message" : answer->body;
      }
      const int status = answer->status;
      RegistryErrc code = RegistryErrc::kRejected;
      if (status == 404) {
        code = RegistryErrc::kNotFound;
      } else if (status == 409) {
        code = RegistryErrc::kIncompatible;
      } else if (status == 401 || status == 403) {
        code = RegistryErrc::kUnauthorized;
      } else if (status >= 500 || status == 429 || status == 408) {
        code = RegistryErrc::kUnavailable;
      }
      failure = error(code, status, error_code,
                      request + ": HTTP " + std::to_string(status) + ": " + shorten(message) +
                          (error_code ? " (error " + std::to_string(error_code) + ")" : ""));
    }
    if (!failure.retryable() || attempt_no >= config_.retries) {
      if (failure.retryable() && attempt_no > 0) {
        failure.message += " (after " + std::to_string(attempt_no + 1) + " attempts)";
      }
      return failure;
    }
    if (!sleepInterruptibly(backoff)) {
      return failure;
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
  }
}

RegistryResult<Schema> RestRegistry::schemaById(uint32_t id, std::string_view subject) {
  std::string path = "/schemas/ids/" + std::to_string(id);
  const std::string qualified = subject.empty() ? qualify("") : qualify(subject);
  if (!qualified.empty()) {
    path += "?subject=" + encodePathSegment(qualified);
  }
  auto body = call("GET", path, nullptr);
  if (!body) {
    return body.error();
  }
  std::string problem;
  auto schema = schemaFromJson(*body, problem);
  if (!schema) {
    return error(RegistryErrc::kBadResponse, 200, 0, "GET " + path + ": " + problem);
  }
  return std::move(*schema);
}

RegistryResult<Schema> RestRegistry::schemaByGuid(const Guid& guid) {
  const std::string path = "/schemas/guids/" + guidText(guid);
  auto body = call("GET", path, nullptr);
  if (!body) {
    return body.error();
  }
  std::string problem;
  auto schema = schemaFromJson(*body, problem);
  if (!schema) {
    return error(RegistryErrc::kBadResponse, 200, 0, "GET " + path + ": " + problem);
  }
  return std::move(*schema);
}

RegistryResult<RegisteredSchema> RestRegistry::subjectVersion(std::string_view subject,
                                                              int version) {
  const std::string qualified = qualify(subject);
  const std::string path = "/subjects/" + encodePathSegment(qualified) + "/versions/" +
                           (version <= 0 ? std::string("latest") : std::to_string(version));
  auto body = call("GET", path, nullptr);
  if (!body) {
    return body.error();
  }
  std::string problem;
  auto registered = registeredFromJson(*body, problem);
  if (!registered) {
    return error(RegistryErrc::kBadResponse, 200, 0, "GET " + path + ": " + problem);
  }
  if (registered->subject.empty()) {
    registered->subject = qualified;
  }
  return std::move(*registered);
}

RegistryResult<RegisteredSchema> RestRegistry::lookup(std::string_view subject,
                                                      const Schema& schema) {
  const std::string qualified = qualify(subject);
  const std::string path = "/subjects/" + encodePathSegment(qualified);
  const std::string request = schemaToJson(schema).dump();
  auto body = call("POST", path, &request);
  if (!body) {
    return body.error();
  }
  std::string problem;
  auto registered = registeredFromJson(*body, problem);
  if (!registered) {
    return error(RegistryErrc::kBadResponse, 200, 0, "POST " + path + ": " + problem);
  }
  if (registered->subject.empty()) {
    registered->subject = qualified;
  }
  return std::move(*registered);
}

RegistryResult<uint32_t> RestRegistry::registerSchema(std::string_view subject,
                                                      const Schema& schema) {
  const std::string path = "/subjects/" + encodePathSegment(qualify(subject)) + "/versions";
  const std::string request = schemaToJson(schema).dump();
  auto body = call("POST", path, &request);
  if (!body) {
    return body.error();
  }
  auto id = body->find("id");
  if (!body->is_object() || id == body->end() || !id->is_number_integer() ||
      id->get<int64_t>() < 0 || id->get<int64_t>() > int64_t{UINT32_MAX}) {
    return error(RegistryErrc::kBadResponse, 200, 0, "POST " + path + ": no schema \"id\"");
  }
  return id->get<uint32_t>();
}

RegistryResult<CompatibilityResult> RestRegistry::checkCompatibility(std::string_view subject,
                                                                     const Schema& schema) {
  const std::string path = "/compatibility/subjects/" + encodePathSegment(qualify(subject)) +
                           "/versions/latest?verbose=true";
  const std::string request = schemaToJson(schema).dump();
  auto body = call("POST", path, &request);
  if (!body) {
    // No subject (40401) or no version (40402) yet: nothing to be incompatible with.
    if (body.error().code == RegistryErrc::kNotFound) {
      return CompatibilityResult{true, {}};
    }
    return body.error();
  }
  auto compatible = body->find("is_compatible");
  if (!body->is_object() || compatible == body->end() || !compatible->is_boolean()) {
    return error(RegistryErrc::kBadResponse, 200, 0,
                 "POST " + path.substr(0, path.find('?')) + ": no \"is_compatible\"");
  }
  CompatibilityResult result;
  result.compatible = compatible->get<bool>();
  if (auto messages = body->find("messages"); messages != body->end() && messages->is_array()) {
    for (const auto& message : *messages) {
      result.messages.push_back(message.is_string() ? message.get<std::string>() : message.dump());
    }
  }
  return result;
}

}  // namespace causeway::schema
