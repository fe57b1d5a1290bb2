#include "control/control_service.h"

#include "config/config_loader.h"
#include "control/convert.h"
#include "control/errors.h"

#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace causeway::control {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kTranslateTimeout{30000};
constexpr milliseconds kMaxTranslateTimeout{300000};
constexpr milliseconds kDrainTimeout{300000};
constexpr milliseconds kMaxDrainTimeout{3600000};
constexpr milliseconds kStepTimeout{30000};
// Drain is run in slices this long so a cancelled call or a shutdown stops it promptly.
constexpr milliseconds kDrainSlice{2000};
// How long Pause/Resume wait for the data plane to show the new state in its status.
constexpr milliseconds kStateWait{3000};

std::string linkNames(const config::Config& config) {
  std::string names;
  for (const auto& l : config.links) {
    names += (names.empty() ? "" : ", ") + l.name;
  }
  return names.empty() ? "(none)" : names;
}

grpc::Status unknownLink(const config::Config& config, const std::string& link) {
  return toGrpcStatus(ErrorKind::kNotFound,
                      "unknown link '" + link + "'; the config has: " + linkNames(config));
}

grpc::Status replicatorError(const std::string& message, const SecretRedactor& redactor) {
  return toGrpcStatus(classifyReplicatorError(message), redactor.redact(message));
}

const replicator::LinkStatus* findStatus(const std::vector<replicator::LinkStatus>& statuses,
                                         const std::string& name) {
  for (const auto& s : statuses) {
    if (s.name == name) {
      return &s;
    }
  }
  return nullptr;
}

google::protobuf::Timestamp nowTimestamp() {
  return google::protobuf::util::TimeUtil::GetCurrentTime();
}

std::string peerOf(grpc::ServerContext* context) { return context->peer(); }

} // namespace

void ControlService::setTarget(ControlTarget* target) {
  std::unique_lock lock(target_mu_);
  target_ = target;
}

grpc::Status ControlService::authorize(grpc::ServerContext* context,
                                       std::string_view method) const {
  const auto needed = requiredAccess(method);
  if (!needed) {
    return toGrpcStatus(ErrorKind::kPermissionDenied,
                        "method " + std::string(method) + " has no access policy");
  }
  std::optional<std::string_view> authorization;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    authorization = std::string_view(it->second.data(), it->second.size());
  }
  auto access = auth_.authenticate(authorization);
  if (!access) {
    spdlog::warn("control: {} from {} refused: {}", method, peerOf(context),
                 access.error().message);
    return toGrpcStatus(ErrorKind::kUnauthenticated, access.error().message);
  }
  if (*needed == Access::kAdmin && *access != Access::kAdmin) {
    spdlog::warn("control: {} from {} refused: read-only token", method, peerOf(context));
    return toGrpcStatus(ErrorKind::kPermissionDenied,
                        std::string(method) + " needs the admin token; this token is read-only");
  }
  return grpc::Status::OK;
}

// The prelude of every method: authorization, then the target under a shared lock.
#define CONTROL_CALL(method)                                                                    \
  if (grpc::Status denied = authorize(context, method); !denied.ok()) {                        \
    return denied;                                                                              \
  }                                                                                             \
  std::shared_lock target_lock(target_mu_);                                                     \
  if (target_ == nullptr) {                                                                     \
    return toGrpcStatus(ErrorKind::kUnavailable, "the worker is still starting its links");     \
  }                                                                                             \
  ControlTarget& target = *target_

grpc::Status ControlService::ListLinks(grpc::ServerContext* context,
                                       const v1::ListLinksRequest* request,
                                       v1::ListLinksResponse* response) {
  CONTROL_CALL("ListLinks");
  const config::Config config = target.currentConfig();
  const SecretRedactor redactor(config);
  const auto statuses = target.statuses();
  std::vector<const config::LinkConfig*> links;
  for (const auto& link : config.links) {
    links.push_back(&link);
  }
  std::sort(links.begin(), links.end(),
            [](const auto* a, const auto* b) { return a->name < b->name; });
  for (const auto* link : links) {
    fillSummary(*link, findStatus(statuses, link->name), redactor, *response->add_links());
  }
  return grpc::Status::OK;
}

grpc::Status ControlService::GetLinkStatus(grpc::ServerContext* context,
                                           const v1::GetLinkStatusRequest* request,
                                           v1::GetLinkStatusResponse* response) {
  CONTROL_CALL("GetLinkStatus");
  if (auto bad = checkName("link", request->link()); !bad.ok()) {
    return bad;
  }
  const config::Config config = target.currentConfig();
  const config::LinkConfig* link = config.findLink(request->link());
  if (link == nullptr) {
    return unknownLink(config, request->link());
  }
  const SecretRedactor redactor(config);
  const auto statuses = target.statuses();
  if (const auto* status = findStatus(statuses, link->name)) {
    fillStatus(*link, *status, redactor, Clock::now(), *response);
  } else {
    fillSummary(*link, nullptr, redactor, *response->mutable_link());
  }
  return grpc::Status::OK;
}

grpc::Status ControlService::setPaused(ControlTarget& target, const std::string& link_name,
                                       bool pause, v1::LinkSummary* summary) {
  if (auto bad = checkName("link", link_name); !bad.ok()) {
    return bad;
  }
  const config::Config config = target.currentConfig();
  const config::LinkConfig* link = config.findLink(link_name);
  if (link == nullptr) {
    return unknownLink(config, link_name);
  }
  const SecretRedactor redactor(config);
  const Status done = pause ? target.pauseLink(link_name) : target.resumeLink(link_name);
  if (!done) {
    return replicatorError(done.message(), redactor);
  }
  spdlog::info("control: link '{}' {}", link_name, pause ? "paused" : "resumed");
  // The data plane applies the change on its next loop and publishes it in its status a few
  // times a second: answer with the new state when it shows within a moment.
  const auto wanted = pause ? replicator::LinkState::kPaused : replicator::LinkState::kRunning;
  const auto deadline = Clock::now() + kStateWait;
  std::vector<replicator::LinkStatus> statuses = target.statuses();
  while (Clock::now() < deadline) {
    const auto* status = findStatus(statuses, link_name);
    if (status == nullptr || status->state == wanted ||
        (status->state != replicator::LinkState::kRunning &&
         status->state != replicator::LinkState::kPaused)) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(50));
    statuses = target.statuses();
  }
  fillSummary(*link, findStatus(statuses, link_name), redactor, *summary);
  return grpc::Status::OK;
}

grpc::Status ControlService::PauseLink(grpc::ServerContext* context,
                                       const v1::PauseLinkRequest* request,
                                       v1::PauseLinkResponse* response) {
  CONTROL_CALL("PauseLink");
  return setPaused(target, request->link(), true, response->mutable_link());
}

grpc::Status ControlService::ResumeLink(grpc::ServerContext* context,
                                        const v1::ResumeLinkRequest* request,
                                        v1::ResumeLinkResponse* response) {
  CONTROL_CALL("ResumeLink");
  return setPaused(target, request->link(), false, response->mutable_link());
}

grpc::Status ControlService::TranslateOffsets(grpc::ServerContext* context,
                                              const v1::TranslateOffsetsRequest* request,
                                              v1::TranslateOffsetsResponse* response) {
  CONTROL_CALL("TranslateOffsets");
  if (auto bad = checkName("link", request->link()); !bad.ok()) {
    return bad;
  }
  if (auto bad = checkName("group", request->group()); !bad.ok()) {
    return bad;
  }
  milliseconds timeout{};
  if (auto bad = durationArg("timeout", request->has_timeout(), request->timeout(),
                             kTranslateTimeout, kMaxTranslateTimeout, timeout);
      !bad.ok()) {
    return bad;
  }
  const config::Config config = target.currentConfig();
  if (config.findLink(request->link()) == nullptr) {
    return unknownLink(config, request->link());
  }
  const SecretRedactor redactor(config);
  auto translated = target.translateOffsets(config, request->link(), request->group(), timeout);
  if (!translated) {
    return replicatorError(translated.error().message, redactor);
  }
  response->set_link(request->link());
  response->set_group(request->group());
  for (const auto& t : *translated) {
    fillTranslation(t, *response->add_partitions());
  }
  return grpc::Status::OK;
}

grpc::Status ControlService::Failover(grpc::ServerContext* context,
                                      const v1::FailoverRequest* request,
                                      grpc::ServerWriter<v1::FailoverProgress>* writer) {
  CONTROL_CALL("Failover");
  if (auto bad = checkName("link", request->link()); !bad.ok()) {
    return bad;
  }
  for (const auto& group : request->groups()) {
    if (auto bad = checkName("groups[]", group); !bad.ok()) {
      return bad;
    }
  }
  {
    std::lock_guard lock(failovers_mu_);
    if (!failovers_.insert(request->link()).second) {
      return toGrpcStatus(ErrorKind::kFailedPrecondition,
                          "a failover of link '" + request->link() + "' is already running");
    }
  }
  grpc::Status result = runFailover(target, context, *request, writer);
  std::lock_guard lock(failovers_mu_);
  failovers_.erase(request->link());
  return result;
}

grpc::Status ControlService::runFailover(ControlTarget& target, grpc::ServerContext* context,
                                         const v1::FailoverRequest& request,
                                         grpc::ServerWriter<v1::FailoverProgress>* writer) {
  milliseconds drain_timeout{};
  if (auto bad = durationArg("drain_timeout", request.has_drain_timeout(),
                             request.drain_timeout(), kDrainTimeout, kMaxDrainTimeout,
                             drain_timeout);
      !bad.ok()) {
    return bad;
  }
  config::Config config = target.currentConfig();
  if (config.findLink(request.link()) == nullptr) {
    return unknownLink(config, request.link());
  }
  const SecretRedactor redactor(config);
  auto steps = target.failover(std::move(config), request.link(),
                               {request.groups().begin(), request.groups().end()});
  if (auto opened = steps->open(); !opened) {
    return replicatorError(opened.message(), redactor);
  }
  auto cancelled = [&] { return context->IsCancelled() || shutting_down_.load(); };
  auto send = [&](const std::function<void(v1::FailoverProgress&)>& fill) {
    v1::FailoverProgress progress;
    *progress.mutable_time() = nowTimestamp();
    fill(progress);
    return writer->Write(progress);
  };
  spdlog::info("control: failover of link '{}'{}{} by {}", request.link(),
               request.dry_run() ? " (dry run)" : "", request.force() ? " (forced)" : "",
               peerOf(context));

  auto plan = steps->plan(kStepTimeout);
  if (!plan) {
    return replicatorError(plan.error().message, redactor);
  }
  send([&](v1::FailoverProgress& p) { fillPlan(*plan, redactor, *p.mutable_plan()); });
  if (request.dry_run()) {
    send([&](v1::FailoverProgress& p) {
      auto* report = p.mutable_report();
      report->set_outcome(v1::FailoverReport::OUTCOME_DRY_RUN);
      fillPlan(*plan, redactor, *report->mutable_final_plan());
      report->set_message("dry run: nothing was changed");
    });
    return grpc::Status::OK;
  }

  int64_t left_behind = 0;
  if (plan->total_lag > 0 && !request.force()) {
    const auto start = Clock::now();
    const auto deadline = start + drain_timeout;
    int64_t last_sent = -1;
    auto on_measure = [&](const replicator::FailoverPlan& measured) {
      if (measured.total_lag == last_sent) {
        return;
      }
      last_sent = measured.total_lag;
      send([&](v1::FailoverProgress& p) {
        auto* drain = p.mutable_drain();
        drain->set_total_lag(measured.total_lag);
        setDuration(std::chrono::duration_cast<milliseconds>(Clock::now() - start),
                    *drain->mutable_elapsed());
        setDuration(drain_timeout, *drain->mutable_timeout());
      });
    };
    while (plan->total_lag > 0 && Clock::now() < deadline) {
      if (cancelled()) {
        return grpc::Status(grpc::StatusCode::CANCELLED,
                            "failover cancelled while draining; nothing was changed");
      }
      const auto remaining =
          std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      plan = steps->drain(std::clamp(remaining, milliseconds(1), kDrainSlice), on_measure);
      if (!plan) {
        return replicatorError(plan.error().message, redactor);
      }
    }
    if (plan->total_lag > 0) {
      return toGrpcStatus(
          ErrorKind::kFailedPrecondition,
          "the link still lags by " + std::to_string(plan->total_lag) + " record(s) after " +
              std::to_string(drain_timeout.count() / 1000) +
              " s; nothing was changed. Are its workers running and the producers stopped? "
              "force fails over anyway and loses what is not replicated");
    }
  } else {
    left_behind = plan->total_lag;
  }
  if (cancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "failover cancelled; nothing was changed");
  }

  bool all = true;
  for (const auto& outcome : steps->moveGroups(kStepTimeout, request.force())) {
    all = all && outcome.committed;
    send([&](v1::FailoverProgress& p) {
      auto* move = p.mutable_group_move();
      move->set_group(outcome.group);
      move->set_committed(outcome.committed);
      move->set_problem(redactor.redact(outcome.problem));
    });
  }
  // Every group moved: stop the link on every worker (its failover mark), so the old source
  // cannot flow into the promoted target any more.
  std::string stopped;
  if (all) {
    auto marked = steps->markFailedOver(request.force(), left_behind,
                                        "control API (" + peerOf(context) + ")", kStepTimeout);
    stopped = marked ? "; the link's workers stop replicating within its discovery_interval"
                     : "; the link could NOT be marked as failed over, stop its workers "
                       "yourself: " + redactor.redact(marked.message());
  }
  auto final_plan = steps->plan(kStepTimeout);
  send([&](v1::FailoverProgress& p) {
    auto* report = p.mutable_report();
    report->set_outcome(all ? v1::FailoverReport::OUTCOME_DONE
                            : v1::FailoverReport::OUTCOME_INCOMPLETE);
    if (final_plan) {
      fillPlan(*final_plan, redactor, *report->mutable_final_plan());
    }
    report->set_records_left_behind(left_behind);
    report->set_message(all ? "failover done: start the consumers on the target cluster" + stopped
                            : "failover incomplete: see the groups that were not moved; the "
                              "link keeps running");
  });
  spdlog::info("control: failover of link '{}' {}", request.link(), all ? "done" : "incomplete");
  return grpc::Status::OK;
}

grpc::Status ControlService::ReloadConfig(grpc::ServerContext* context,
                                          const v1::ReloadConfigRequest* request,
                                          v1::ReloadConfigResponse* response) {
  CONTROL_CALL("ReloadConfig");
  config::LoadResult loaded;
  std::string origin;
  switch (request->source_case()) {
  case v1::ReloadConfigRequest::kPath:
    if (request->path().empty()) {
      return toGrpcStatus(ErrorKind::kInvalidArgument, "path is empty");
    }
    origin = request->path();
    loaded = config::loadConfigFile(request->path());
    break;
  case v1::ReloadConfigRequest::kYaml:
    origin = request->name().empty() ? "<inline>" : request->name();
    loaded = config::loadConfigString(request->yaml(), origin);
    break;
  default:
    return toGrpcStatus(ErrorKind::kInvalidArgument,
                        "either path (a file on the worker's host) or yaml is required");
  }
  // Secrets of both the running and the new configuration are hidden from the answer.
  SecretRedactor redactor(target.currentConfig());
  if (loaded.config) {
    redactor.add(*loaded.config);
  }
  if (!loaded.ok()) {
    std::string message = std::to_string(loaded.errors.size()) + " error(s) in " + origin +
                          "; nothing was changed:";
    for (const auto& error : loaded.errors) {
      message += "\n" + error.str();
    }
    return toGrpcStatus(ErrorKind::kInvalidArgument, redactor.redact(message));
  }
  if (request->validate_only()) {
    response->set_applied(false);
    return grpc::Status::OK;
  }
  std::lock_guard reload_lock(reload_mu_);
  spdlog::info("control: reloading the configuration from {} (by {})", origin, peerOf(context));
  auto reloaded = target.reload(std::move(*loaded.config));
  if (!reloaded) {
    return replicatorError(reloaded.error().message, redactor);
  }
  response->set_applied(true);
  for (const auto& name : reloaded->added) {
    response->add_added(name);
  }
  for (const auto& name : reloaded->removed) {
    response->add_removed(name);
  }
  for (const auto& name : reloaded->restarted) {
    response->add_restarted(name);
  }
  for (const auto& name : reloaded->unchanged) {
    response->add_unchanged(name);
  }
  return grpc::Status::OK;
}

#undef CONTROL_CALL

} // namespace causeway::control
