#pragma once

#include "causeway/v1/control.grpc.pb.h"
#include "common/result.h"

#include <google/protobuf/message.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace causeway::control {

// How `causeway ctl` reaches a worker's control API.
struct ClientOptions {
  std::string address = "127.0.0.1:9465";
  std::string token_file;  // sent as `authorization: Bearer <token>`
  std::string tls_ca;      // PEM: TLS, verifying the server against this CA
  std::string tls_cert;    // PEM: client certificate (when the server requires one)
  std::string tls_key;
  std::string tls_server_name;  // expected name in the server certificate (default: the host)
  std::chrono::milliseconds timeout{60000};  // deadline of each unary call
};

// A client of causeway.v1.Control. Errors read "CODE: the server's message" (e.g.
// "NOT_FOUND: unknown link 'x'; the config has: a, b"). Not thread-safe: one per thread.
class ControlClient {
public:
  static Result<std::unique_ptr<ControlClient>> connect(const ClientOptions& options);

  Result<v1::ListLinksResponse> listLinks();
  Result<v1::GetLinkStatusResponse> getLinkStatus(const std::string& link);
  Result<v1::PauseLinkResponse> pauseLink(const std::string& link);
  Result<v1::ResumeLinkResponse> resumeLink(const std::string& link);
  Result<v1::TranslateOffsetsResponse> translateOffsets(const std::string& link,
                                                        const std::string& group);
  // Streams the progress to `on_progress` as it arrives; the error of the call, if any, comes
  // after the progress already received.
  Status failover(const v1::FailoverRequest& request,
                  const std::function<void(const v1::FailoverProgress&)>& on_progress);
  Result<v1::ReloadConfigResponse> reloadConfig(const v1::ReloadConfigRequest& request);

private:
  ControlClient(std::unique_ptr<v1::Control::Stub> stub, ClientOptions options,
                std::string token)
      : stub_(std::move(stub)), options_(std::move(options)), token_(std::move(token)) {}
  void prepare(grpc::ClientContext& context, bool deadline) const;

  std::unique_ptr<v1::Control::Stub> stub_;
  ClientOptions options_;
  std::string token_;
};

// "NOT_FOUND", "UNAUTHENTICATED", ...
const char* statusCodeName(grpc::StatusCode code);

// Output of `causeway ctl`: readable tables, or JSON (proto3 JSON mapping, field names as in
// the .proto, every field printed).
std::string toJson(const google::protobuf::Message& message);
std::string formatLinks(const v1::ListLinksResponse& response);
std::string formatLinkStatus(const v1::GetLinkStatusResponse& response);
std::string formatSummaryLine(const v1::LinkSummary& link);
std::string formatTranslation(const v1::TranslateOffsetsResponse& response);
std::string formatFailoverProgress(const v1::FailoverProgress& progress);
std::string formatReload(const v1::ReloadConfigResponse& response);
// "running", "paused", ...
std::string stateName(v1::LinkState state);

} // namespace causeway::control
