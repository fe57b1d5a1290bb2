#include "egress/grpc_service.h"

#include "causeway/v1/egress.grpc.pb.h"
#include "egress/partner_auth.h"
#include "egress/product_contracts.h"
#include "egress/stream_audit.h"
#include "egress/stream_hub.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

namespace causeway::egress {
namespace {

using google::protobuf::util::TimeUtil;
namespace v1 = causeway::v1;

constexpr size_t kMessageBytes = 64 * 1024;  // event data per SubscribeResponse

grpc::StatusCode codeFor(int http_status) {
  switch (http_status) {
  case 400:
    return grpc::StatusCode::INVALID_ARGUMENT;
  case 401:
    return grpc::StatusCode::UNAUTHENTICATED;
  case 403:
    return grpc::StatusCode::PERMISSION_DENIED;
  case 404:
    return grpc::StatusCode::NOT_FOUND;
  case 429:
    return grpc::StatusCode::RESOURCE_EXHAUSTED;
  default:
    return grpc::StatusCode::UNAVAILABLE;
  }
}

std::optional<std::string_view> authorizationOf(const grpc::CallbackServerContext* context) {
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return std::nullopt;
  }
  return std::string_view(it->second.data(), it->second.size());
}

Result<std::string> readPem(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{what + " '" + path + "' cannot be read"};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void setSide(const ContractSide& side, v1::ContractSide& out) {
  out.set_format(side.format);
  out.set_subject(side.subject);
  if (side.schema_id) {
    out.set_schema_id(*side.schema_id);
    out.set_version(side.version);
  }
  out.set_error(side.error);
  if (side.derived_schema) {
    out.set_derived_schema(*side.derived_schema);
  }
  out.set_derived_schema_unavailable(side.derived_schema_unavailable);
  for (const auto& problem : side.derived_schema_problems) {
    out.add_derived_schema_problems(problem);
  }
}

// The listing's contracts, as the HTTP listing shows them (egress/product_contracts.h).
void setContracts(const ProductContractView& view, v1::Product& out) {
  for (const auto& header : view.headers) {
    out.add_headers(header);
  }
  if (!view.topics) {
    out.set_contracts_unknown(true);
    return;
  }
  for (const auto& topic : *view.topics) {
    v1::TopicContract* t = out.add_contracts();
    t->set_topic(topic.topic);
    if (!topic.has_contract) {
      continue;
    }
    v1::Contract* contract = t->mutable_contract();
    contract->set_name(topic.name);
    contract->set_domain(topic.domain);
    if (topic.value) {
      setSide(*topic.value, *contract->mutable_value());
    }
    if (topic.key) {
      setSide(*topic.key, *contract->mutable_key());
    }
  }
}

class EventBatch : public EventSink {
public:
  explicit EventBatch(v1::SubscribeResponse& response) : response_(response) {}
  void add(const EventRef& e) override {
    v1::Event* event = response_.add_events();
    event->set_resume_token(std::string(e.id));
    event->set_json(std::string(e.data));
    event->set_topic(std::string(e.topic));
    event->set_partition(e.partition);
    event->set_offset(e.offset);
    if (e.timestamp >= 0) {
      *event->mutable_timestamp() = TimeUtil::MillisecondsToTimestamp(e.timestamp);
    }
  }

private:
  v1::SubscribeResponse& response_;
};

}  // namespace

class EgressGrpcServer::Service : public v1::Egress::CallbackService {
public:
  Service(StreamHub& hub, ProductContracts& contracts, PartnerAuth& auth)
      : hub_(hub), contracts_(contracts), auth_(auth) {}

  grpc::ServerUnaryReactor* ListProducts(grpc::CallbackServerContext* context,
                                         const v1::ListProductsRequest*,
                                         v1::ListProductsResponse* response) override {
    auto* reactor = context->DefaultReactor();
    auto who = auth_.authenticate(authorizationOf(context), unixSeconds());
    if (auto* error = std::get_if<AuthError>(&who)) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, error->message));
      return reactor;
    }
    const Identity& identity = std::get<Identity>(who);
    const auto& partners = hub_.config().partners;
    const auto partner = partners.find(identity.partner);
    for (const config::ProductConfig* product : hub_.productsFor(identity)) {
      const ProductInfo info = hub_.describe(*product);
      v1::Product* p = response->add_products();
      p->set_name(product->name);
      p->set_domain(product->domain);
      p->set_description(product->description);
      p->set_owner(product->owner);
      if (info.freshness_seconds) {
        *p->mutable_freshness() =
            TimeUtil::MillisecondsToDuration(static_cast<int64_t>(*info.freshness_seconds * 1000));
      }
      if (product->freshness_slo.count() > 0) {
        *p->mutable_freshness_slo() =
            TimeUtil::MillisecondsToDuration(product->freshness_slo.count());
        p->set_within_slo(info.freshness_seconds &&
                          *info.freshness_seconds * 1000 <= product->freshness_slo.count());
      }
      p->set_empty(info.empty);
      setContracts(contracts_.describe(*product,
                                       partner == partners.end() ? nullptr : &partner->second,
                                       info.topics),
                   *p);
    }
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerWriteReactor<v1::SubscribeResponse>*
  Subscribe(grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) override;

  // Ends every open subscription (the server stops).
  void shutdownAll();

  class Subscriber;
  void add(Subscriber* s) {
    std::lock_guard lock(mu_);
    subscribers_.insert(s);
  }
  void remove(Subscriber* s) {
    std::lock_guard lock(mu_);
    subscribers_.erase(s);
  }

  StreamHub& hub_;
  ProductContracts& contracts_;
  PartnerAuth& auth_;
  std::mutex mu_;
  std::set<Subscriber*> subscribers_;
};

// One Subscribe call. The reactor methods (OnWriteDone, OnCancel, OnDone) run on gRPC's threads,
// wake-ups on the tail's: every access to the subscription is under `state_->mu`. Wake-ups may
// outlive the reactor, so they hold the state weakly.
class EgressGrpcServer::Service::Subscriber
    : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
public:
  Subscriber(Service& service, grpc::CallbackServerContext* context,
             const v1::SubscribeRequest& request)
      : service_(service), context_(context), state_(std::make_shared<State>()) {
    state_->self = this;
    auto who = service.auth_.authenticate(authorizationOf(context), unixSeconds());
    if (auto* error = std::get_if<AuthError>(&who)) {
      Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, error->message));
      return;
    }
    OpenRequest open;
    switch (request.start_case()) {
    case v1::SubscribeRequest::kResumeToken:
      open.last_event_id = request.resume_token();
      break;
    case v1::SubscribeRequest::kPosition:
      open.from = request.position() == v1::START_POSITION_EARLIEST ? "earliest" : "latest";
      break;
    case v1::SubscribeRequest::kFromTime:
      open.from = TimeUtil::ToString(request.from_time());
      break;
    default:
      break;
    }
    if (!request.filter().empty()) {
      open.filter = request.filter();
    }
    auto opened = service.hub_.open(std::get<Identity>(who), request.product(), open);
    if (auto* error = std::get_if<OpenError>(&opened)) {
      Finish(grpc::Status(codeFor(error->http_status), error->message));
      return;
    }
    audit_.who = std::get<Identity>(who);
    audit_.product = request.product();
    audit_.transport = "grpc";
    audit_.peer = context->peer();
    audit_.from = open.last_event_id ? *open.last_event_id : "from=" + open.from.value_or("latest");
    subscription_ = std::move(std::get<std::unique_ptr<Subscription>>(opened));
    service.add(this);
    // The first message holds where the stream starts (as the SSE stream's first id does), so
    // a client whose stream breaks before its first event resumes without a gap. Events follow
    // from OnWriteDone.
    std::lock_guard lock(state_->mu);
    response_.Clear();
    response_.set_start_token(subscription_->token());
    writing_ = true;
    StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(state_->mu);
    writing_ = false;
    if (!ok) {
      subscription_->end(EndReason::kClientGone);
      finishLocked(grpc::Status::CANCELLED);
      return;
    }
    pumpLocked();
  }

  void OnCancel() override {
    std::lock_guard lock(state_->mu);
    if (subscription_) {
      subscription_->end(EndReason::kClientGone);
    }
    finishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    {
      std::lock_guard lock(state_->mu);
      state_->self = nullptr;
    }
    if (subscription_) {
      service_.remove(this);
      audit_.finish(service_.hub_, *subscription_, bytes_);
    }
    delete this;
  }

  void shutdown() {
    std::lock_guard lock(state_->mu);
    if (subscription_) {
      subscription_->end(EndReason::kShutdown, "the server is stopping");
      pumpLocked();
    }
  }

private:
  struct State {
    std::mutex mu;
    Subscriber* self = nullptr;
  };

  void pumpLocked() {
    if (writing_ || finished_ || !subscription_) {
      return;
    }
    response_.Clear();
    EventBatch batch(response_);
    std::weak_ptr<State> weak = state_;
    const auto wake = [weak] {
      if (auto state = weak.lock()) {
        std::lock_guard lock(state->mu);
        if (state->self != nullptr) {
          state->self->pumpLocked();
        }
      }
    };
    Subscription::Pull result = Subscription::Pull::kData;
    while (response_.events_size() == 0 && result == Subscription::Pull::kData) {
      result = subscription_->pull(batch, kMessageBytes, wake);
    }
    if (response_.events_size() > 0) {
      for (const auto& e : response_.events()) {
        bytes_ += e.json().size();
      }
      writing_ = true;
      StartWrite(&response_);
      return;
    }
    if (result == Subscription::Pull::kEnded) {
      const EndReason reason = subscription_->endReason();
      const std::string message = std::string(toString(reason)) + ": " +
                                  subscription_->endDetail() +
                                  "; resume with the token in causeway-resume-token";
      context_->AddTrailingMetadata("causeway-resume-token", subscription_->token());
      finishLocked(grpc::Status(reason == EndReason::kSlowClient
                                    ? grpc::StatusCode::RESOURCE_EXHAUSTED
                                    : grpc::StatusCode::UNAVAILABLE,
                                message));
    }
  }

  void finishLocked(const grpc::Status& status) {
    if (!finished_) {
      finished_ = true;
      Finish(status);
    }
  }

  Service& service_;
  grpc::CallbackServerContext* context_;
  std::shared_ptr<State> state_;
  std::unique_ptr<Subscription> subscription_;
  StreamAudit audit_;
  v1::SubscribeResponse response_;
  bool writing_ = false;
  bool finished_ = false;
  uint64_t bytes_ = 0;
};

grpc::ServerWriteReactor<v1::SubscribeResponse>*
EgressGrpcServer::Service::Subscribe(grpc::CallbackServerContext* context,
                                     const v1::SubscribeRequest* request) {
  return new Subscriber(*this, context, *request);
}

void EgressGrpcServer::Service::shutdownAll() {
  // Under mu_: a subscriber leaves the set (in OnDone) before it is deleted, so every pointer
  // in the set is alive while the lock is held.
  std::lock_guard lock(mu_);
  for (Subscriber* s : subscribers_) {
    s->shutdown();
  }
}

Result<std::unique_ptr<EgressGrpcServer>>
EgressGrpcServer::start(const config::EgressConfig& egress, StreamHub& hub,
                        ProductContracts& contracts, PartnerAuth& auth) {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (egress.tls) {
    auto cert = readPem(egress.tls->cert_file, "egress TLS certificate");
    auto key = readPem(egress.tls->key_file, "egress TLS key");
    if (!cert || !key) {
      return Error{!cert ? cert.error().message : key.error().message};
    }
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    if (!egress.tls->client_ca_file.empty()) {
      auto ca = readPem(egress.tls->client_ca_file, "egress TLS client CA");
      if (!ca) {
        return ca.error();
      }
      ssl.pem_root_certs = *ca;
      ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    credentials = grpc::SslServerCredentials(ssl);
  } else {
    credentials = grpc::InsecureServerCredentials();
  }
  std::unique_ptr<EgressGrpcServer> server(new EgressGrpcServer());
  server->service_ = std::make_unique<Service>(hub, contracts, auth);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(egress.grpc_listen, credentials, &port);
  builder.RegisterService(server->service_.get());
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || port == 0) {
    return Error{"egress gRPC cannot listen on " + egress.grpc_listen +
                 " (address in use, or not an address of this host)"};
  }
  server->port_ = port;
  return server;
}

EgressGrpcServer::~EgressGrpcServer() { stop(); }

void EgressGrpcServer::stop() {
  if (stopped_ || !server_) {
    return;
  }
  stopped_ = true;
  service_->shutdownAll();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
}

}  // namespace causeway::egress
