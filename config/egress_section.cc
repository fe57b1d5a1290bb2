#include "config/sections.h"

#include <charconv>

namespace causeway::config {
namespace {

const std::vector<std::string> kEgressKeys = {"listen",
                                              "grpc_listen",
                                              "tls",
                                              "allow_insecure_remote",
                                              "resume_token_secret_file",
                                              "heartbeat_interval",
                                              "retry",
                                              "live_window_bytes",
                                              "client_buffer_bytes",
                                              "max_catchup_readers",
                                              "max_connections",
                                              "io_threads",
                                              "cors_origins",
                                              "pushpin"};
const std::vector<std::string> kTlsKeys = {"cert_file", "key_file", "client_ca_file"};
const std::vector<std::string> kPushpinKeys = {"publish_url", "sig_key_file", "max_initial_bytes"};
const KeysRegistration kEgressKeysRegistration("egress", kEgressKeys);
const KeysRegistration kTlsKeysRegistration("egress.tls", kTlsKeys);
const KeysRegistration kPushpinKeysRegistration("egress.pushpin", kPushpinKeys);

// HOST:PORT where port 0 (any free port) is allowed, unlike hostPort().
void listenAddress(YamlReader& r, const Field& field, std::string& out) {
  auto text = r.string(field);
  if (!text) {
    return;
  }
  const std::string value = trim(*text);
  const size_t colon = value.rfind(':');
  const std::string expected =
      "expected HOST:PORT (like 0.0.0.0:8443 or [::1]:8443), found " + quoted(value);
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
    r.error(field, expected);
    return;
  }
  const std::string host = value.substr(0, colon);
  if (host.find(':') != std::string::npos && (host.front() != '[' || host.back() != ']')) {
    r.error(field, expected + " (an IPv6 host goes in brackets)");
    return;
  }
  unsigned port = 0;
  const char* first = value.data() + colon + 1;
  const char* last = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || ptr != last || port > 65535) {
    r.error(field, expected + " (the port must be 0-65535)");
    return;
  }
  out = value;
}

// A relative path is relative to the configuration file, not to the working directory (as
// policies' key files are).
std::string nextToConfig(const YamlReader& r, const std::string& path) {
  const size_t slash = r.file().rfind('/');
  return path.empty() || path[0] == '/' || slash == std::string::npos
             ? path
             : r.file().substr(0, slash + 1) + path;
}

void filePath(YamlReader& r, const Object& object, const std::string& key, std::string& out) {
  if (const Field* field = object.get(key)) {
    if (auto text = r.nonEmptyString(*field)) {
      out = nextToConfig(r, trim(*text));
    }
  }
}

void loadTls(YamlReader& r, const Field& field, EgressTlsConfig& tls) {
  tls.location = r.location(field.mark);
  auto object = r.object(field, kTlsKeys, "a map with cert_file, key_file (and client_ca_file)");
  if (!object) {
    return;
  }
  if (const Field* cert = r.require(*object, "cert_file", "the server's PEM certificate")) {
    if (auto text = r.nonEmptyString(*cert)) {
      tls.cert_file = nextToConfig(r, trim(*text));
    }
  }
  if (const Field* key = r.require(*object, "key_file", "the PEM key of cert_file")) {
    if (auto text = r.nonEmptyString(*key)) {
      tls.key_file = nextToConfig(r, trim(*text));
    }
  }
  filePath(r, *object, "client_ca_file", tls.client_ca_file);
}

void loadPushpin(YamlReader& r, const Field& field, PushpinConfig& pushpin) {
  pushpin.location = r.location(field.mark);
  auto object = r.object(field, kPushpinKeys, "a map with publish_url and sig_key_file");
  if (!object) {
    return;
  }
  if (const Field* url = r.require(*object, "publish_url",
                                   "Pushpin's publish endpoint, http://HOST:5561/publish/")) {
    if (auto text = r.nonEmptyString(*url)) {
      if (text->rfind("http://", 0) != 0) {
        r.error(*url, "expected an http:// URL of Pushpin's publish endpoint (like "
                      "http://127.0.0.1:5561/publish/), found " +
                          quoted(*text));
      } else {
        pushpin.publish_url = trim(*text);
      }
    }
  }
  if (const Field* key = r.require(*object, "sig_key_file",
                                   "the file holding the key Pushpin signs Grip-Sig with")) {
    if (auto text = r.nonEmptyString(*key)) {
      pushpin.sig_key_file = nextToConfig(r, trim(*text));
    }
  }
  r.positiveCount(object->get("max_initial_bytes"), pushpin.max_initial_bytes, true);
}

}  // namespace

void loadEgress(YamlReader& r, const Field& field, Config& config) {
  EgressConfig egress;
  egress.location = r.location(field.key_mark);
  auto object = r.object(field, kEgressKeys, "a map of egress server settings");
  if (!object) {
    return;
  }
  if (const Field* listen =
          r.require(*object, "listen", "HOST:PORT of the HTTP server, like 0.0.0.0:8443")) {
    listenAddress(r, *listen, egress.listen);
  }
  if (const Field* grpc = object->get("grpc_listen")) {
    listenAddress(r, *grpc, egress.grpc_listen);
  }
  if (const Field* tls = object->get("tls")) {
    egress.tls.emplace();
    loadTls(r, *tls, *egress.tls);
  }
  if (const Field* insecure = object->get("allow_insecure_remote")) {
    egress.allow_insecure_remote = r.boolean(*insecure).value_or(false);
  }
  if (const Field* secret = object->get("resume_token_secret_file")) {
    egress.resume_token_secret_location = r.location(secret->mark);
  }
  filePath(r, *object, "resume_token_secret_file", egress.resume_token_secret_file);
  r.duration(object->get("heartbeat_interval"), egress.heartbeat_interval);
  r.duration(object->get("retry"), egress.retry);
  r.positiveCount(object->get("live_window_bytes"), egress.live_window_bytes, true);
  r.positiveCount(object->get("client_buffer_bytes"), egress.client_buffer_bytes, true);
  if (const Field* buffer = object->get("client_buffer_bytes");
      buffer != nullptr && egress.client_buffer_bytes > egress.live_window_bytes) {
    r.error(*buffer, "must not exceed live_window_bytes (" +
                         std::to_string(egress.live_window_bytes) +
                         "): a client's buffer is part of the live window");
  }
  r.positiveCount(object->get("max_catchup_readers"), egress.max_catchup_readers, false);
  r.positiveCount(object->get("max_connections"), egress.max_connections, false);
  r.positiveCount(object->get("io_threads"), egress.io_threads, false);
  if (const Field* io = object->get("io_threads"); io != nullptr && egress.io_threads > 64) {
    r.error(*io, "at most 64 event loops (one per core is plenty)");
  }
  if (const Field* origins = object->get("cors_origins")) {
    r.stringList(*origins, egress.cors_origins, "a list of origins like https://partner.example");
  }
  if (const Field* pushpin = object->get("pushpin")) {
    egress.pushpin.emplace();
    loadPushpin(r, *pushpin, *egress.pushpin);
  }
  config.egress = std::move(egress);
}

}  // namespace causeway::config
