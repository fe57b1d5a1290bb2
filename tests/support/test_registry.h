#pragma once

// A schema registry for tests: an HTTP server on 127.0.0.1 speaking the Confluent REST API
// endpoints Causeway uses (schemas by ID and GUID, subject versions, registration, lookup,
// compatibility, contexts), with what real registries do wrong on purpose: 404 subjects, 409
// incompatible schemas, 5xx answers, slow answers, required credentials.
//
// Thread-safe: the server answers on its own threads while the test sets it up and inspects
// it. The destructor stops the server (and wakes answers that are being delayed).

#include "schema/registry.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}  // namespace httplib

namespace causeway::testing {

class TestRegistry {
public:
  struct Options {
    uint32_t first_id = 1;   // IDs count up from here (give two registries different ranges)
    std::string basic_user;  // with basic_password: requests must carry basic auth
    std::string basic_password;
    std::string bearer_token;   // requests must carry this bearer token
    std::string tls_cert_file;  // with tls_key_file: serve HTTPS
    std::string tls_key_file;
  };
  // Decides whether `candidate` may follow `latest` in `subject` (409 / is_compatible false
  // with the messages when not). Default: everything is compatible.
  using CompatibilityCheck = std::function<schema::CompatibilityResult(
      const std::string& subject, const schema::Schema& latest, const schema::Schema& candidate)>;

  TestRegistry();
  explicit TestRegistry(Options options);
  ~TestRegistry();
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;

  std::string url() const;  // "http://127.0.0.1:PORT" (https with TLS)
  int port() const { return port_; }

  // --- Setup and inspection without HTTP ---
  // Registers like POST /subjects/{subject}/versions (a context subject ":.ctx:name" goes to
  // that context) and answers the ID.
  uint32_t add(const std::string& subject, const schema::Schema& schema);
  std::optional<schema::Schema> schemaById(uint32_t id, const std::string& context = "") const;
  // The GUID of schema `id` (default context); setGuid gives it another, as a registry that
  // imported the schema from another one keeps its GUID.
  std::optional<schema::Guid> guidOf(uint32_t id) const;
  void setGuid(uint32_t id, const schema::Guid& guid);
  std::optional<schema::RegisteredSchema> latest(const std::string& subject) const;
  std::vector<std::string> subjects() const;  // qualified (":.ctx:name" for contexts)

  // --- Misbehaviour ---
  void setCompatibility(CompatibilityCheck check);
  void failNext(int count, int status = 503);      // the next `count` requests answer `status`
  void setDown(bool down);                         // every request answers 503 while down
  void setDelay(std::chrono::milliseconds delay);  // each answer waits this long first

  // --- What was asked ---
  // "GET /schemas/ids/1", "POST /subjects/:.east:orders-value/versions", ... in order.
  std::vector<std::string> requests() const;
  size_t requestCount(const std::string& prefix) const;
  // Requests refused for missing or wrong credentials.
  size_t unauthorizedCount() const;

private:
  struct Stored {
    schema::Schema schema;
    uint32_t id = 0;
    schema::Guid guid{};
  };
  struct Context {
    std::vector<Stored> schemas;                          // by registration order
    std::map<std::string, std::vector<size_t>> subjects;  // name -> versions (index in schemas)
  };
  void serve();
  void installRoutes();
  // Under mu_: registers, answers the ID.
  uint32_t addLocked(const std::string& context, const std::string& name,
                     const schema::Schema& schema);
  const Stored* findLocked(const std::string& context, uint32_t id) const;

  Options options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  mutable std::mutex mu_;
  std::condition_variable stopping_cv_;
  bool stopping_ = false;
  std::map<std::string, Context> contexts_;  // "" is the default context
  uint32_t next_id_;
  CompatibilityCheck compatibility_;
  int fail_next_ = 0;
  int fail_status_ = 503;
  bool down_ = false;
  std::chrono::milliseconds delay_{0};
  std::vector<std::string> requests_;
  size_t unauthorized_ = 0;
};

}  // namespace causeway::testing
