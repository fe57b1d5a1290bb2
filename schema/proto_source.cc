#include "schema/proto_source.h"

#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>

namespace causeway::schema {
namespace {

// Collects the parser's errors instead of letting protobuf log them.
class Collector final : public google::protobuf::io::ErrorCollector {
public:
  explicit Collector(std::vector<ProtoSyntaxError>& errors) : errors_(errors) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    // A broken file can produce an error per token; the first few say what is wrong.
    if (errors_.size() < 10) {
      errors_.push_back(ProtoSyntaxError{line + 1, column + 1, message});
    }
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}

private:
  std::vector<ProtoSyntaxError>& errors_;
};

}  // namespace

bool parseProtoText(std::string_view file_name, std::string_view text,
                    google::protobuf::FileDescriptorProto& out,
                    std::vector<ProtoSyntaxError>& errors) {
  // The parser logs some findings itself ("No syntax specified"): they would reach the
  // process's stderr once per schema; the collector below reports what matters.
  google::protobuf::LogSilencer silence;
  const size_t before = errors.size();
  google::protobuf::io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
  Collector collector(errors);
  google::protobuf::io::Tokenizer tokenizer(&input, &collector);
  google::protobuf::compiler::Parser parser;
  parser.RecordErrorsTo(&collector);
  const bool parsed = parser.Parse(&tokenizer, &out);
  out.set_name(std::string(file_name));
  if (!parsed && errors.size() == before) {
    errors.push_back(ProtoSyntaxError{1, 1, "does not parse as a .proto file"});
  }
  return parsed && errors.size() == before;
}

}  // namespace causeway::schema
