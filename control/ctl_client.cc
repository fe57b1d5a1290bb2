#include "control/ctl_client.h"

#include "control/auth.h"
#include "control/control_server.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdio>
#include <sstream>

namespace causeway::control {
namespace {

using google::protobuf::util::TimeUtil;

Error callError(const grpc::Status& status) {
  std::string message = status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && message.empty()) {
    message = "the control API does not answer";
  }
  return Error{std::string(statusCodeName(status.error_code())) + ": " + message};
}

std::string format(const char* fmt, auto... args) {
  char buffer[1024];
  std::snprintf(buffer, sizeof(buffer), fmt, args...);
  return buffer;
}

std::string durationText(const google::protobuf::Duration& d) {
  const int64_t ms = TimeUtil::DurationToMilliseconds(d);
  if (ms < 1000) {
    return std::to_string(ms) + "ms";
  }
  if (ms < 120000) {
    return format("%.1fs", static_cast<double>(ms) / 1000.0);
  }
  return std::to_string(ms / 60000) + "m" + std::to_string(ms / 1000 % 60) + "s";
}

std::string offsetText(int64_t v) { return v < 0 ? "-" : std::to_string(v); }

std::string planText(const v1::FailoverPlan& plan) {
  std::string out = format("link '%s': %lld record(s) still to replicate\n", plan.link().c_str(),
                           static_cast<long long>(plan.total_lag()));
  out += format("  %-24s %9s %14s %14s %10s\n", "SOURCE TOPIC", "PARTITION", "SOURCE END",
                "REPLICATED TO", "LAG");
  for (const auto& p : plan.partitions()) {
    out += format("  %-24s %9d %14lld %14lld %10lld\n", p.source_topic().c_str(), p.partition(),
                  static_cast<long long>(p.source_high()),
                  static_cast<long long>(p.next_source_offset()), static_cast<long long>(p.lag()));
  }
  for (const auto& g : plan.groups()) {
    if (!g.problem().empty()) {
      out += "group '" + g.group() + "': cannot be moved: " + g.problem() + "\n";
      continue;
    }
    out += format("group '%s': RPO if failed over now: %lld record(s)\n", g.group().c_str(),
                  static_cast<long long>(g.rpo_records()));
    for (const auto& t : g.offsets()) {
      if (t.source_offset() < 0) {
        out += format("  %s[%d]: no committed offset\n", t.source_topic().c_str(), t.partition());
      } else if (t.target_offset() < 0) {
        out += format("  %s[%d]: source %lld -> not yet replicated that far\n",
                      t.source_topic().c_str(), t.partition(),
                      static_cast<long long>(t.source_offset()));
      } else {
        out += format("  %s[%d]: source %lld -> %s[%d] target %lld\n", t.source_topic().c_str(),
                      t.partition(), static_cast<long long>(t.source_offset()),
                      t.target_topic().c_str(), t.partition(),
                      static_cast<long long>(t.target_offset()));
      }
    }
  }
  return out;
}

}  // namespace

const char* statusCodeName(grpc::StatusCode code) {
  switch (code) {
  case grpc::StatusCode::OK:
    return "OK";
  case grpc::StatusCode::CANCELLED:
    return "CANCELLED";
  case grpc::StatusCode::UNKNOWN:
    return "UNKNOWN";
  case grpc::StatusCode::INVALID_ARGUMENT:
    return "INVALID_ARGUMENT";
  case grpc::StatusCode::DEADLINE_EXCEEDED:
    return "DEADLINE_EXCEEDED";
  case grpc::StatusCode::NOT_FOUND:
    return "NOT_FOUND";
  case grpc::StatusCode::ALREADY_EXISTS:
    return "ALREADY_EXISTS";
  case grpc::StatusCode::PERMISSION_DENIED:
    return "PERMISSION_DENIED";
  case grpc::StatusCode::RESOURCE_EXHAUSTED:
    return "RESOURCE_EXHAUSTED";
  case grpc::StatusCode::FAILED_PRECONDITION:
    return "FAILED_PRECONDITION";
  case grpc::StatusCode::ABORTED:
    return "ABORTED";
  case grpc::StatusCode::OUT_OF_RANGE:
    return "OUT_OF_RANGE";
  case grpc::StatusCode::UNIMPLEMENTED:
    return "UNIMPLEMENTED";
  case grpc::StatusCode::INTERNAL:
    return "INTERNAL";
  case grpc::StatusCode::UNAVAILABLE:
    return "UNAVAILABLE";
  case grpc::StatusCode::DATA_LOSS:
    return "DATA_LOSS";
  case grpc::StatusCode::UNAUTHENTICATED:
    return "UNAUTHENTICATED";
  default:
    return "UNKNOWN";
  }
}

Result<std::unique_ptr<ControlClient>> ControlClient::connect(const ClientOptions& options) {
  auto host_port = splitHostPort(options.address);
  if (!host_port) {
    return Error{"--address: " + host_port.error().message};
  }
  std::string token;
  if (!options.token_file.empty()) {
    auto read = readTokenFile(options.token_file);
    if (!read) {
      return read.error();
    }
    token = std::move(*read);
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  grpc::ChannelArguments args;
  if (!options.tls_ca.empty() || !options.tls_cert.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_ca.empty()) {
      auto ca = readFile(options.tls_ca, "--tls-ca");
      if (!ca) {
        return ca.error();
      }
      ssl.pem_root_certs = *ca;
    }
    if (!options.tls_cert.empty() || !options.tls_key.empty()) {
      auto cert = readFile(options.tls_cert, "--tls-cert");
      auto key = readFile(options.tls_key, "--tls-key");
      if (!cert || !key) {
        return !cert ? cert.error() : key.error();
      }
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    credentials = grpc::SslCredentials(ssl);
    if (!options.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(options.tls_server_name);
    }
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  auto channel = grpc::CreateCustomChannel(options.address, credentials, args);
  return std::unique_ptr<ControlClient>(
      new ControlClient(v1::Control::NewStub(channel), options, std::move(token)));
}

void ControlClient::prepare(grpc::ClientContext& context, bool deadline) const {
  if (!token_.empty()) {
    context.AddMetadata("authorization", "Bearer " + token_);
  }
  if (deadline) {
    context.set_deadline(std::chrono::system_clock::now() + options_.timeout);
  }
}

#define CTL_UNARY(Method, request_expr, Response)                                                  \
  grpc::ClientContext context;                                                                     \
  prepare(context, true);                                                                          \
  Response response;                                                                               \
  const auto request = (request_expr);                                                             \
  if (grpc::Status status = stub_->Method(&context, request, &response); !status.ok()) {           \
    return callError(status);                                                                      \
  }                                                                                                \
  return response

Result<v1::ListLinksResponse> ControlClient::listLinks() {
  CTL_UNARY(ListLinks, v1::ListLinksRequest(), v1::ListLinksResponse);
}

Result<v1::GetLinkStatusResponse> ControlClient::getLinkStatus(const std::string& link) {
  v1::GetLinkStatusRequest r;
  r.set_link(link);
  CTL_UNARY(GetLinkStatus, r, v1::GetLinkStatusResponse);
}

Result<v1::PauseLinkResponse> ControlClient::pauseLink(const std::string& link) {
  v1::PauseLinkRequest r;
  r.set_link(link);
  CTL_UNARY(PauseLink, r, v1::PauseLinkResponse);
}

Result<v1::ResumeLinkResponse> ControlClient::resumeLink(const std::string& link) {
  v1::ResumeLinkRequest r;
  r.set_link(link);
  CTL_UNARY(ResumeLink, r, v1::ResumeLinkResponse);
}

Result<v1::TranslateOffsetsResponse> ControlClient::translateOffsets(const std::string& link,
                                                                     const std::string& group) {
  v1::TranslateOffsetsRequest r;
  r.set_link(link);
  r.set_group(group);
  CTL_UNARY(TranslateOffsets, r, v1::TranslateOffsetsResponse);
}

Result<v1::ReloadConfigResponse> ControlClient::reloadConfig(const v1::ReloadConfigRequest& r) {
  CTL_UNARY(ReloadConfig, r, v1::ReloadConfigResponse);
}

#undef CTL_UNARY

Status
ControlClient::failover(const v1::FailoverRequest& request,
                        const std::function<void(const v1::FailoverProgress&)>& on_progress) {
  grpc::ClientContext context;
  prepare(context, false);  // a drain may take as long as its drain_timeout
  auto reader = stub_->Failover(&context, request);
  v1::FailoverProgress progress;
  while (reader->Read(&progress)) {
    on_progress(progress);
  }
  if (grpc::Status status = reader->Finish(); !status.ok()) {
    return callError(status);
  }
  return {};
}

std::string toJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    return "{\"error\": \"cannot render JSON\"}\n";
  }
  return out;
}

std::string stateName(v1::LinkState state) {
  std::string name = v1::LinkState_Name(state);
  constexpr std::string_view kPrefix = "LINK_STATE_";
  if (name.rfind(kPrefix, 0) == 0) {
    name = name.substr(kPrefix.size());
  }
  for (auto& c : name) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

namespace {

std::string lagText(const v1::LinkSummary& link) {
  return std::to_string(link.offset_lag()) + (link.offset_lag_complete() ? "" : "+");
}

}  // namespace

std::string formatLinks(const v1::ListLinksResponse& response) {
  std::string out = format("%-20s %-12s %-12s %-9s %6s %14s %12s %10s\n", "LINK", "SOURCE",
                           "TARGET", "STATE", "PARTS", "REPLICATED", "LAG", "TIME LAG");
  for (const auto& l : response.links()) {
    out +=
        format("%-20s %-12s %-12s %-9s %6u %14llu %12s %10s\n", l.name().c_str(),
               l.source_cluster().c_str(), l.target_cluster().c_str(), stateName(l.state()).c_str(),
               l.assigned_partitions(), static_cast<unsigned long long>(l.records_replicated()),
               lagText(l).c_str(), l.has_time_lag() ? durationText(l.time_lag()).c_str() : "-");
  }
  for (const auto& l : response.links()) {
    if (!l.error().empty()) {
      out += "link '" + l.name() + "' failed: " + l.error() + "\n";
    } else if (!l.last_error().empty()) {
      out += "link '" + l.name() + "' last problem: " + l.last_error() + "\n";
    }
    if (l.noted_topics() > 0) {
      out += "link '" + l.name() + "': " + std::to_string(l.noted_topics()) +
             " topic(s) waiting or refusing records: causeway ctl status " + l.name() + "\n";
    }
  }
  return out;
}

std::string formatSummaryLine(const v1::LinkSummary& l) {
  return "link '" + l.name() + "': " + stateName(l.state()) + ", " +
         std::to_string(l.records_replicated()) + " record(s) replicated, lag " + lagText(l) + "\n";
}

std::string formatLinkStatus(const v1::GetLinkStatusResponse& response) {
  const auto& l = response.link();
  std::string out =
      format("link '%s' (%s -> %s, %s): %s\n", l.name().c_str(), l.source_cluster().c_str(),
             l.target_cluster().c_str(),
             l.delivery() == v1::DELIVERY_MODE_EXACTLY_ONCE ? "exactly-once" : "at-least-once",
             stateName(l.state()).c_str());
  out += format("  replicated %llu record(s), %llu byte(s); in flight %llu; lag %s; "
                "rebalances %llu\n",
                static_cast<unsigned long long>(l.records_replicated()),
                static_cast<unsigned long long>(l.bytes_replicated()),
                static_cast<unsigned long long>(l.in_flight_records()), lagText(l).c_str(),
                static_cast<unsigned long long>(response.rebalances()));
  if (!l.error().empty()) {
    out += "  failed: " + l.error() + "\n";
  }
  if (!l.last_error().empty()) {
    out += "  last problem: " + l.last_error() + "\n";
  }
  out += format("  %-24s %9s %12s %12s %10s %10s %12s %s\n", "TOPIC", "PARTITION", "NEXT OFFSET",
                "HIGH WATER", "LAG", "TIME LAG", "REPLICATED", "");
  for (const auto& p : response.partitions()) {
    out += format(
        "  %-24s %9d %12s %12s %10s %10s %12llu %s\n", p.source_topic().c_str(), p.partition(),
        offsetText(p.next_offset()).c_str(), offsetText(p.high_watermark()).c_str(),
        offsetText(p.lag()).c_str(), p.has_time_lag() ? durationText(p.time_lag()).c_str() : "-",
        static_cast<unsigned long long>(p.records_replicated()), p.paused() ? "paused" : "");
  }
  for (const auto& n : response.topic_notes()) {
    out += "  topic '" + n.topic() + "': " + n.note() + "\n";
  }
  for (const auto& g : response.groups()) {
    out += "  group '" + g.group() + "': " + (g.synced() ? "synced" : "not synced") +
           (g.problem().empty() ? "" : " (" + g.problem() + ")") + ", RPO " +
           offsetText(g.rpo_records()) + " record(s)\n";
  }
  for (const auto& d : response.decisions()) {
    out += "  " + d.outcome() + " by " + d.stage() + " (" + d.reason() +
           (d.rule().empty() ? "" : ", rule " + d.rule()) + "): " + std::to_string(d.records()) +
           " record(s)\n";
  }
  for (const auto& e : response.error_counts()) {
    out += "  errors " + e.kind() + ": " + std::to_string(e.count()) + "\n";
  }
  return out;
}

std::string formatTranslation(const v1::TranslateOffsetsResponse& response) {
  std::string out = "group '" + response.group() + "' through link '" + response.link() + "'\n";
  out += format("%-24s %9s %14s   %-24s %14s %18s\n", "SOURCE TOPIC", "PARTITION", "SOURCE OFFSET",
                "TARGET TOPIC", "TARGET OFFSET", "NOT YET REPLICATED");
  for (const auto& t : response.partitions()) {
    const std::string target = t.source_offset() < 0   ? "(no commit)"
                               : t.target_offset() < 0 ? "(not yet)"
                                                       : std::to_string(t.target_offset());
    out += format("%-24s %9d %14s   %-24s %14s %18s\n", t.source_topic().c_str(), t.partition(),
                  offsetText(t.source_offset()).c_str(), t.target_topic().c_str(), target.c_str(),
                  offsetText(t.not_yet_replicated()).c_str());
  }
  return out;
}

std::string formatFailoverProgress(const v1::FailoverProgress& progress) {
  switch (progress.event_case()) {
  case v1::FailoverProgress::kPlan:
    return "== plan\n" + planText(progress.plan());
  case v1::FailoverProgress::kDrain:
    return format("  draining: lag %lld after %s (timeout %s)\n",
                  static_cast<long long>(progress.drain().total_lag()),
                  durationText(progress.drain().elapsed()).c_str(),
                  durationText(progress.drain().timeout()).c_str());
  case v1::FailoverProgress::kGroupMove: {
    const auto& move = progress.group_move();
    return move.committed() ? "  group '" + move.group() + "': committed on the target\n"
                            : "  group '" + move.group() + "': NOT moved: " + move.problem() + "\n";
  }
  case v1::FailoverProgress::kReport: {
    const auto& report = progress.report();
    std::string out = "== report\n";
    if (report.outcome() != v1::FailoverReport::OUTCOME_DRY_RUN && report.has_final_plan()) {
      out += planText(report.final_plan());
    }
    if (report.records_left_behind() > 0) {
      out += std::to_string(report.records_left_behind()) +
             " record(s) left behind (forced failover)\n";
    }
    const char* outcome = report.outcome() == v1::FailoverReport::OUTCOME_DONE ? "FAILOVER DONE"
                          : report.outcome() == v1::FailoverReport::OUTCOME_DRY_RUN
                              ? "DRY RUN"
                              : "FAILOVER INCOMPLETE";
    return out + outcome + ": " + report.message() + "\n";
  }
  default:
    return "";
  }
}

std::string formatReload(const v1::ReloadConfigResponse& response) {
  if (!response.applied()) {
    return "configuration is valid (not applied)\n";
  }
  auto list = [](const auto& names) {
    std::string out;
    for (const auto& n : names) {
      out += (out.empty() ? "" : ", ") + n;
    }
    return out.empty() ? std::string("-") : out;
  };
  return "configuration applied\n  added:     " + list(response.added()) +
         "\n  removed:   " + list(response.removed()) +
         "\n  restarted: " + list(response.restarted()) +
         "\n  unchanged: " + list(response.unchanged()) + "\n";
}

}  // namespace causeway::control
