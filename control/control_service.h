#pragma once

#include "causeway/v1/control.grpc.pb.h"
#include "control/auth.h"
#include "control/control_target.h"

#include <atomic>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace causeway::control {

// causeway.v1.Control over a ControlTarget (the worker). Every call is authenticated and
// authorized first (TokenAuth, requiredAccess()), then its request is checked, then the target
// is asked; errors map to gRPC codes in one place (errors.h) and every string returned goes
// through a SecretRedactor built from the current configuration.
//
// Threads: methods run on gRPC's request threads, concurrently. Until setTarget() is called the
// worker is still starting and every call except authentication answers UNAVAILABLE.
// setTarget(nullptr) returns once no call uses the old target any more; a running Failover is
// asked to stop (beginShutdown()) and ends within a few seconds.
class ControlService final : public v1::Control::Service {
public:
  explicit ControlService(TokenAuth auth) : auth_(std::move(auth)) {}

  void setTarget(ControlTarget* target);
  // Makes running Failover calls stop at their next step (server shutdown).
  void beginShutdown() { shutting_down_ = true; }

  grpc::Status ListLinks(grpc::ServerContext* context, const v1::ListLinksRequest* request,
                         v1::ListLinksResponse* response) override;
  grpc::Status GetLinkStatus(grpc::ServerContext* context,
                             const v1::GetLinkStatusRequest* request,
                             v1::GetLinkStatusResponse* response) override;
  grpc::Status PauseLink(grpc::ServerContext* context, const v1::PauseLinkRequest* request,
                         v1::PauseLinkResponse* response) override;
  grpc::Status ResumeLink(grpc::ServerContext* context, const v1::ResumeLinkRequest* request,
                          v1::ResumeLinkResponse* response) override;
  grpc::Status TranslateOffsets(grpc::ServerContext* context,
                                const v1::TranslateOffsetsRequest* request,
                                v1::TranslateOffsetsResponse* response) override;
  grpc::Status Failover(grpc::ServerContext* context, const v1::FailoverRequest* request,
                        grpc::ServerWriter<v1::FailoverProgress>* writer) override;
  grpc::Status ReloadConfig(grpc::ServerContext* context, const v1::ReloadConfigRequest* request,
                            v1::ReloadConfigResponse* response) override;

private:
  // Authentication and authorization of a call to `method`.
  grpc::Status authorize(grpc::ServerContext* context, std::string_view method) const;
  // Pause or resume; `pause` selects which.
  grpc::Status setPaused(ControlTarget& target, const std::string& link, bool pause,
                         v1::LinkSummary* summary);
  grpc::Status runFailover(ControlTarget& target, grpc::ServerContext* context,
                           const v1::FailoverRequest& request,
                           grpc::ServerWriter<v1::FailoverProgress>* writer);

  const TokenAuth auth_;
  std::atomic<bool> shutting_down_{false};
  // Calls hold it shared while they use target_; setTarget() takes it exclusively.
  mutable std::shared_mutex target_mu_;
  ControlTarget* target_ = nullptr;
  std::mutex failovers_mu_;
  std::set<std::string> failovers_;  // links with a Failover call running
  // Serializes ReloadConfig calls (each drains and starts links).
  std::mutex reload_mu_;
};

} // namespace causeway::control
