#include "monitoring/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace causeway::monitoring {
namespace {

bool isNameStart(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
}

bool isNameChar(char c, bool allow_colon) {
  return isNameStart(c, allow_colon) || (c >= '0' && c <= '9');
}

bool isValidName(std::string_view name, bool allow_colon) {
  if (name.empty() || !isNameStart(name[0], allow_colon)) {
    return false;
  }
  for (char c : name) {
    if (!isNameChar(c, allow_colon)) {
      return false;
    }
  }
  return true;
}

} // namespace

const char* toString(MetricType type) {
  switch (type) {
  case MetricType::kCounter:
    return "counter";
  case MetricType::kGauge:
    return "gauge";
  case MetricType::kHistogram:
    return "histogram";
  }
  return "untyped";
}

bool isValidMetricName(std::string_view name) { return isValidName(name, true); }

bool isValidLabelName(std::string_view name) {
  return isValidName(name, false) && name.substr(0, 2) != "__";
}

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
    case '\\':
      out += "\\\\";
      break;
    case '"':
      out += "\\\"";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string escapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string formatValue(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  // Integral values below 2^53 are exact in a double: print them as integers, which is what a
  // person (and a test) expects of a counter.
  if (std::trunc(value) == value && std::fabs(value) < 9007199254740992.0) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

ExpositionWriter::Family& ExpositionWriter::family(const std::string& name, MetricType type,
                                                   const std::string& help) {
  if (auto it = by_name_.find(name); it != by_name_.end()) {
    Family& existing = *it->second;
    if (existing.type_ != type) {
      error("metric family '" + name + "' declared as " + toString(existing.type_) +
            " and again as " + toString(type));
      // A detached family: its samples are dropped, the first declaration stays intact.
      families_.push_back(std::unique_ptr<Family>(new Family(*this, name, type, help)));
      families_.back()->valid_ = false;
      return *families_.back();
    }
    return existing;
  }
  families_.push_back(std::unique_ptr<Family>(new Family(*this, name, type, help)));
  Family& created = *families_.back();
  if (!isValidMetricName(name)) {
    error("invalid metric name '" + name + "'");
    created.valid_ = false;
  } else {
    by_name_[name] = &created;
  }
  return created;
}

Result<std::string> ExpositionWriter::render() const {
  if (!errors_.empty()) {
    std::string message = std::to_string(errors_.size()) + " error(s) in the metrics exposition:";
    for (const auto& e : errors_) {
      message += "\n  " + e;
    }
    return Error{message};
  }
  std::string out;
  for (const auto& family : families_) {
    if (!family->valid_ || family->body_.empty()) {
      continue;
    }
    out += "# HELP " + family->name_ + " " + escapeHelp(family->help_) + "\n";
    out += "# TYPE " + family->name_ + " " + toString(family->type_) + "\n";
    out += family->body_;
  }
  return out;
}

bool ExpositionWriter::Family::renderLabels(const Labels& labels, std::string& out) {
  std::set<std::string_view> names;
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!isValidLabelName(name)) {
      owner_.error("metric '" + name_ + "': invalid label name '" + name + "'");
      return false;
    }
    if (type_ == MetricType::kHistogram && name == "le") {
      owner_.error("histogram '" + name_ + "': the label 'le' is reserved for buckets");
      return false;
    }
    if (!names.insert(name).second) {
      owner_.error("metric '" + name_ + "': label '" + name + "' given twice");
      return false;
    }
    if (!first) {
      out += ',';
    }
    first = false;
    out += name;
    out += "=\"";
    if (owner_.secrets_->empty()) {
      out += escapeLabelValue(value);
    } else {
      std::string shown = value;
      owner_.secrets_->redactInPlace(shown);
      out += escapeLabelValue(shown);
    }
    out += '"';
  }
  return true;
}

void ExpositionWriter::Family::addSample(const Labels& labels, const std::string& value) {
  if (!valid_) {
    return;
  }
  if (type_ == MetricType::kHistogram) {
    owner_.error("histogram '" + name_ + "': use addHistogram()");
    return;
  }
  std::string rendered;
  if (!renderLabels(labels, rendered)) {
    return;
  }
  if (!series_.insert(rendered).second) {
    owner_.error("metric '" + name_ + "': duplicate series {" + rendered + "}");
    return;
  }
  body_ += name_;
  if (!rendered.empty()) {
    body_ += '{' + rendered + '}';
  }
  body_ += ' ' + value + '\n';
}

void ExpositionWriter::Family::add(const Labels& labels, double value) {
  addSample(labels, formatValue(value));
}

void ExpositionWriter::Family::add(const Labels& labels, uint64_t value) {
  addSample(labels, std::to_string(value));
}

void ExpositionWriter::Family::add(const Labels& labels, int64_t value) {
  addSample(labels, std::to_string(value));
}

void ExpositionWriter::Family::addHistogram(const Labels& labels,
                                            std::span<const double> upper_bounds,
                                            std::span<const uint64_t> bucket_counts, double sum) {
  if (!valid_) {
    return;
  }
  if (type_ != MetricType::kHistogram) {
    owner_.error("metric '" + name_ + "' is a " + toString(type_) + ", not a histogram");
    return;
  }
  if (bucket_counts.size() != upper_bounds.size() + 1) {
    owner_.error("histogram '" + name_ + "': " + std::to_string(upper_bounds.size()) +
                 " bounds need " + std::to_string(upper_bounds.size() + 1) +
                 " bucket counts, got " + std::to_string(bucket_counts.size()));
    return;
  }
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i]) || (i > 0 && upper_bounds[i] <= upper_bounds[i - 1])) {
      owner_.error("histogram '" + name_ + "': bucket bounds must be finite and increasing");
      return;
    }
  }
  std::string rendered;
  if (!renderLabels(labels, rendered)) {
    return;
  }
  if (!series_.insert(rendered).second) {
    owner_.error("histogram '" + name_ + "': duplicate series {" + rendered + "}");
    return;
  }
  const std::string prefix = rendered.empty() ? std::string() : rendered + ',';
  const std::string braces = rendered.empty() ? std::string() : '{' + rendered + '}';
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bucket_counts.size(); ++i) {
    cumulative += bucket_counts[i];
    const std::string le = i < upper_bounds.size() ? formatValue(upper_bounds[i]) : "+Inf";
    body_ += name_ + "_bucket{" + prefix + "le=\"" + le + "\"} " + std::to_string(cumulative) +
             '\n';
  }
  body_ += name_ + "_sum" + braces + ' ' + formatValue(sum) + '\n';
  body_ += name_ + "_count" + braces + ' ' + std::to_string(cumulative) + '\n';
}

} // namespace causeway::monitoring
