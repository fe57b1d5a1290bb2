// causeway ctl [--address HOST:PORT] [--token-file F] [--tls-ca F] [--json] COMMAND ...
// The client of a worker's control API (control/ctl_client.h does the calls and the tables).

#include "app/commands.h"
#include "common/duration.h"
#include "control/ctl_client.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

namespace causeway::app {
namespace {

// Prints the answer (JSON or a table) or the error; returns the exit code.
template <typename T, typename Format>
int print(const Result<T>& result, bool json, Format format) {
  if (!result) {
    std::cerr << "causeway ctl: " << result.error().message << "\n";
    return 1;
  }
  std::cout << (json ? control::toJson(*result) : format(*result));
  return 0;
}

int reload(control::ControlClient& client, const CtlOptions& options) {
  v1::ReloadConfigRequest request;
  request.set_validate_only(options.validate_only);
  if (options.server_path) {
    request.set_path(options.config_path);
  } else {
    std::ifstream in(options.config_path);
    if (!in) {
      std::cerr << "causeway ctl: cannot read " << options.config_path << "\n";
      return 1;
    }
    std::ostringstream text;
    text << in.rdbuf();
    request.set_yaml(text.str());
    request.set_name(options.config_path);
  }
  return print(client.reloadConfig(request), options.json, control::formatReload);
}

int failover(control::ControlClient& client, const CtlOptions& options) {
  v1::FailoverRequest request;
  request.set_link(options.link);
  for (const auto& group : options.groups) {
    request.add_groups(group);
  }
  request.set_dry_run(options.dry_run);
  request.set_force(options.force);
  const auto drain = parseDuration(options.drain_timeout);
  if (!drain) {
    std::cerr << "causeway ctl: --drain-timeout: expected a duration like 5m\n";
    return 1;
  }
  request.mutable_drain_timeout()->set_seconds(drain->count() / 1000);
  request.mutable_drain_timeout()->set_nanos(static_cast<int32_t>(drain->count() % 1000) *
                                             1000000);
  bool complete = false;
  const Status done = client.failover(request, [&](const v1::FailoverProgress& progress) {
    if (progress.has_report()) {
      complete = progress.report().outcome() != v1::FailoverReport::OUTCOME_INCOMPLETE;
    }
    if (options.json) {
      // One JSON object per line: a stream a program can read as it arrives.
      std::string line = control::toJson(progress);
      line.erase(std::remove(line.begin(), line.end(), '\n'), line.end());
      std::cout << line << "\n";
    } else {
      std::cout << control::formatFailoverProgress(progress);
    }
    std::cout.flush();
  });
  if (!done) {
    std::cerr << "causeway ctl: " << done.message() << "\n";
    return 1;
  }
  return complete ? 0 : 1;
}

} // namespace

int runCtl(const CtlOptions& options) {
  control::ClientOptions connection;
  connection.address = options.address;
  connection.token_file = options.token_file;
  connection.tls_ca = options.tls_ca;
  connection.tls_cert = options.tls_cert;
  connection.tls_key = options.tls_key;
  connection.tls_server_name = options.tls_server_name;
  connection.timeout = parseDuration(options.timeout).value_or(std::chrono::seconds(60));
  auto connected = control::ControlClient::connect(connection);
  if (!connected) {
    std::cerr << "causeway ctl: " << connected.error().message << "\n";
    return 1;
  }
  auto& client = **connected;
  const bool json = options.json;
  if (options.command == "links") {
    return print(client.listLinks(), json, control::formatLinks);
  }
  if (options.command == "status") {
    return print(client.getLinkStatus(options.link), json, control::formatLinkStatus);
  }
  if (options.command == "pause") {
    return print(client.pauseLink(options.link), json, [](const v1::PauseLinkResponse& r) {
      return control::formatSummaryLine(r.link());
    });
  }
  if (options.command == "resume") {
    return print(client.resumeLink(options.link), json, [](const v1::ResumeLinkResponse& r) {
      return control::formatSummaryLine(r.link());
    });
  }
  if (options.command == "translate") {
    return print(client.translateOffsets(options.link, options.group), json,
                 control::formatTranslation);
  }
  if (options.command == "failover") {
    return failover(client, options);
  }
  if (options.command == "reload") {
    return reload(client, options);
  }
  std::cerr << "causeway ctl: unknown command '" << options.command << "'\n";
  return 2;
}

} // namespace causeway::app
