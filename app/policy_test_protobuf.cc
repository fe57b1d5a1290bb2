#include "app/policy_test_protobuf.h"

#include "schema/wire_format.h"

#include <google/protobuf/util/json_util.h>


namespace causeway::app {

namespace pb = google::protobuf;

namespace {
constexpr uint32_t kSampleSchemaId = 1;
}  // namespace

Result<std::unique_ptr<ProtobufSamples>> ProtobufSamples::load(const std::string& schema_path,
                                                               const std::string& message,
                                                               const policies::Policy& policy) {
  Result<std::string> text = readSchemaFile(schema_path);
  if (!text) {
    return text.error();
  }
  schema::ResolvedSchema writer;
  writer.schema.type = schema::SchemaType::kProtobuf;
  writer.schema.text = *text;
  auto shape = policies::makeProtobufShape(writer, policy.rules(), policy.slots().size());
  if (!shape) {
    return Error{schema_path + ": " + shape.error().message};
  }
  std::unique_ptr<ProtobufSamples> samples(new ProtobufSamples());
  samples->shape_ = *shape;
  const pb::FileDescriptor& file = *samples->shape_->writer->file;
  if (message.empty()) {
    samples->message_ = file.message_type(0);
  } else {
    samples->message_ = samples->shape_->writer->pool->FindMessageTypeByName(message);
    if (samples->message_ == nullptr && !file.package().empty()) {
      samples->message_ =
          samples->shape_->writer->pool->FindMessageTypeByName(file.package() + "." + message);
    }
    if (samples->message_ == nullptr || samples->message_->file() != &file) {
      return Error{schema_path + ": no message " + message + " in the file"};
    }
  }
  if (samples->shape_->derived.changed && samples->shape_->derived.problems.empty()) {
    schema::ResolvedSchema derived = writer;
    derived.schema.text = samples->shape_->derived.schema;
    auto compiled = schema::compileProto(derived);
    if (!compiled) {
      return Error{schema_path + ": the derived file does not build: " + compiled.error().message};
    }
    samples->derived_file_ = *compiled;
  }
  schema::appendPrefix(samples->prefix_, schema::SchemaRef::ofId(kSampleSchemaId),
                       schema::messageIndexesOf(*samples->message_));
  return samples;
}

Result<std::unique_ptr<policies::PolicyStage>>
ProtobufSamples::makeStage(policies::PolicyPtr policy, policies::PolicyCountersPtr counters) const {
  return policies::PolicyStage::create(std::move(policy), std::move(counters), nullptr, shapes_);
}

void ProtobufSamples::learn(const std::string& topic) {
  if (topics_.insert(topic).second) {
    shapes_->put(topic, kSampleSchemaId, shape_);
  }
}

Result<std::string> ProtobufSamples::encode(std::string_view json) {
  std::unique_ptr<pb::Message> message(factory_.GetPrototype(message_)->New());
  pb::util::JsonParseOptions options;
  if (auto parsed = pb::util::JsonStringToMessage(std::string(json), message.get(), options);
      !parsed.ok()) {
    return Error{"the value is not a message " + message_->full_name() +
                 " in protobuf's JSON mapping: " + std::string(parsed.message())};
  }
  return prefix_ + message->SerializeAsString();
}

std::string ProtobufSamples::show(std::string_view framed, bool derived) {
  schema::Frame frame;
  schema::FrameError error;
  if (!schema::parseFrame(framed, true, frame, error)) {
    return "(not framed: " + error.describe() + ")";
  }
  const schema::ProtoFile* file =
      derived && derived_file_ ? derived_file_.get() : shape_->writer.get();
  const pb::Descriptor* type = schema::messageAt(*file->file, frame.indexes);
  if (type == nullptr) {
    return "(message indexes " + frame.indexes.str() + " name no message)";
  }
  std::unique_ptr<pb::Message> message(factory_.GetPrototype(type)->New());
  if (!message->ParseFromString(std::string(framed.substr(frame.prefix_size)))) {
    return "(not a " + type->full_name() + ")";
  }
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (auto printed = pb::util::MessageToJsonString(*message, &json, options); !printed.ok()) {
    return "(no JSON form: " + std::string(printed.message()) + ")";
  }
  return json;
}

}  // namespace causeway::app
