#include "policies/transforms.h"

namespace causeway::policies {

const char* actionName(Action action) {
  switch (action) {
  case Action::kDrop:
    return "drop";
  case Action::kRedact:
    return "redact";
  case Action::kMask:
    return "mask";
  case Action::kHash:
    return "hash";
  case Action::kEncrypt:
    return "encrypt";
  case Action::kTokenize:
    return "tokenize";
  case Action::kTruncate:
    return "truncate";
  case Action::kSet:
    return "set";
  }
  return "?";
}

bool actionAccepts(Action action, ValueKind kind) {
  if (kind == ValueKind::kNull || kind == ValueKind::kMissing) {
    return true;  // nothing to protect: kept as it is
  }
  switch (action) {
  case Action::kDrop:
  case Action::kRedact:
  case Action::kSet:
  case Action::kEncrypt:
    return true;
  case Action::kMask:
    return kind == ValueKind::kString || kind == ValueKind::kNumber;
  case Action::kHash:
  case Action::kTokenize:
    return kind == ValueKind::kString || kind == ValueKind::kNumber || kind == ValueKind::kBool ||
           kind == ValueKind::kBytes;
  case Action::kTruncate:
    return kind == ValueKind::kString;
  }
  return false;
}

namespace {

bool isContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

size_t codePoints(std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    n += isContinuation(c) ? 0 : 1;
  }
  return n;
}

// The byte offset where code point `index` starts (text.size() past the end).
size_t codePointOffset(std::string_view text, size_t index) {
  size_t seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!isContinuation(text[i])) {
      if (seen == index) {
        return i;
      }
      ++seen;
    }
  }
  return text.size();
}

}  // namespace

Result<TransformRunner> TransformRunner::create(const std::vector<TransformRule>& rules) {
  TransformRunner runner(&rules);
  runner.macs_.resize(rules.size());
  runner.sealers_.resize(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    const TransformRule& rule = rules[i];
    if (rule.action == Action::kHash) {
      Result<HmacSha256> mac = HmacSha256::create(rule.secret->bytes());
      if (!mac) {
        return mac.error();
      }
      runner.macs_[i] = std::make_unique<HmacSha256>(std::move(*mac));
    } else if (rule.action == Action::kTokenize) {
      Result<HmacSha256> mac = HmacSha256::create(rule.keys->active().key);
      if (!mac) {
        return mac.error();
      }
      runner.macs_[i] = std::make_unique<HmacSha256>(std::move(*mac));
    } else if (rule.action == Action::kEncrypt) {
      Result<EnvelopeSealer> sealer = EnvelopeSealer::create(rule.keys);
      if (!sealer) {
        return sealer.error();
      }
      runner.sealers_[i] = std::make_unique<EnvelopeSealer>(std::move(*sealer));
    }
  }
  return runner;
}

void TransformRunner::replaceWith(ValueKind kind, std::string_view text, std::string& arena,
                                  FieldEdit& edit) {
  edit.kind = FieldEdit::Kind::kReplace;
  edit.value_kind = kind;
  edit.text_begin = static_cast<uint32_t>(arena.size());
  arena += text;
  edit.text_size = static_cast<uint32_t>(text.size());
}

TransformRunner::Outcome TransformRunner::apply(size_t index, const FieldOccurrence& occurrence,
                                                std::string& arena, FieldEdit& edit,
                                                std::string& problem) {
  const TransformRule& rule = (*rules_)[index];
  const FieldValue& value = occurrence.value;
  edit.handle = occurrence.handle;
  if (rule.action == Action::kDrop) {
    edit.kind = FieldEdit::Kind::kRemove;
    return Outcome::kApplied;
  }
  if (rule.action == Action::kSet) {
    replaceWith(rule.constant_kind, rule.replacement, arena, edit);
    return Outcome::kApplied;
  }
  if (value.kind == ValueKind::kNull) {
    return Outcome::kKept;
  }
  if (!actionAccepts(rule.action, value.kind)) {
    problem = rule.path.text() + ": " + actionName(rule.action) + " does not apply to " +
              kindName(value.kind);
    return Outcome::kFailed;
  }
  switch (rule.action) {
  case Action::kRedact:
    replaceWith(ValueKind::kString, rule.replacement, arena, edit);
    return Outcome::kApplied;
  case Action::kMask: {
    // Every code point but the last keep_last becomes the mask character; a number's digits
    // are masked as text, so the field becomes a string.
    const std::string_view text = value.text;
    const size_t total = codePoints(text);
    const size_t masked = total > rule.keep_last ? total - rule.keep_last : 0;
    const size_t keep_from = codePointOffset(text, masked);
    edit.kind = FieldEdit::Kind::kReplace;
    edit.value_kind = ValueKind::kString;
    edit.text_begin = static_cast<uint32_t>(arena.size());
    arena.append(masked, rule.mask_char);
    arena.append(text.substr(keep_from));
    edit.text_size = static_cast<uint32_t>(arena.size() - edit.text_begin);
    return Outcome::kApplied;
  }
  case Action::kHash:
  case Action::kTokenize: {
    uint8_t digest[kSha256Bytes];
    if (!macs_[index]->compute(value.text, digest)) {
      problem = rule.path.text() + ": HMAC failed";
      return Outcome::kFailed;
    }
    scratch_.clear();
    if (rule.action == Action::kHash) {
      appendHex(digest, scratch_);
    } else {
      // 128 bits are plenty to keep distinct values apart; the key id says which key made the
      // token, so tokens of different key generations are visibly different.
      scratch_ += kTokenPrefix;
      scratch_ += rule.keys->active().id;
      scratch_ += '_';
      appendBase64Url(std::span<const uint8_t>(digest, 16), scratch_);
    }
    replaceWith(ValueKind::kString, scratch_, arena, edit);
    return Outcome::kApplied;
  }
  case Action::kEncrypt: {
    PlainType type = PlainType::kString;
    switch (value.kind) {
    case ValueKind::kNumber:
      type = PlainType::kNumber;
      break;
    case ValueKind::kBool:
      type = PlainType::kBool;
      break;
    case ValueKind::kObject:
    case ValueKind::kArray:
      type = PlainType::kJson;
      break;
    case ValueKind::kBytes:
      type = PlainType::kBytes;
      break;
    default:
      break;
    }
    scratch_.clear();
    if (!sealers_[index]->seal(type, value.text, scratch_)) {
      problem = rule.path.text() + ": encryption failed";
      return Outcome::kFailed;
    }
    replaceWith(ValueKind::kString, scratch_, arena, edit);
    return Outcome::kApplied;
  }
  case Action::kTruncate: {
    const size_t cut = codePointOffset(value.text, rule.max);
    if (cut >= value.text.size()) {
      return Outcome::kKept;
    }
    replaceWith(ValueKind::kString, value.text.substr(0, cut), arena, edit);
    return Outcome::kApplied;
  }
  default:
    return Outcome::kKept;
  }
}

void TransformRunner::insert(size_t index, uint32_t parent_handle, std::string& arena,
                             FieldEdit& edit) {
  const TransformRule& rule = (*rules_)[index];
  replaceWith(rule.constant_kind, rule.replacement, arena, edit);
  edit.kind = FieldEdit::Kind::kInsert;
  edit.handle = parent_handle;
  edit.name = rule.path.segments.back().name;
}

}  // namespace causeway::policies
