// ProtobufReader's writing half (protobuf_payload.h): the edits of one record, the fields
// `set` adds, and the lengths of the messages around them.

#include "policies/protobuf_payload.h"
#include "policies/protobuf_wire.h"

#include <algorithm>

namespace causeway::policies {

using FD = google::protobuf::FieldDescriptor;
using protobuf_wire::parseWhole;
using protobuf_wire::putFixed;
using protobuf_wire::putVarint;
using protobuf_wire::WireFormatLite;
using protobuf_wire::wireTypeOf;

bool ProtobufReader::encode(const Location& at, const FieldEdit* edit,
                            const FieldOccurrence& occurrence, std::string_view arena,
                            std::string& problem) {
  if (at.field == nullptr) {
    problem = "the whole Protobuf message cannot be replaced";
    return false;
  }
  if (at.packed_element) {
    problem = "field " + at.field->full_name() +
              ": one element of a packed run of repeated numbers cannot be edited";
    return false;
  }
  const ProtobufSlotPlan plan =
      record_problems_.empty() ? shape_->derived.slots[occurrence.slot] : ProtobufSlotPlan{};
  if ((edit != nullptr && edit->kind == FieldEdit::Kind::kRemove) ||
      plan.change == ProtobufSlotPlan::Change::kRemove) {
    return true;  // left out: no bytes
  }
  if (at.packed) {
    problem =
        "field " + at.field->full_name() + ": a packed run of repeated numbers can only be dropped";
    return false;
  }
  const FD::Type type =
      plan.change == ProtobufSlotPlan::Change::kRetype ? plan.type : at.field->type();
  if (edit != nullptr) {
    return encodeField(*at.field, type, edit->value_kind,
                       arena.substr(edit->text_begin, edit->text_size), problem);
  }
  return encodeField(*at.field, type, occurrence.value.kind, occurrence.value.text, problem);
}

bool ProtobufReader::encodeField(const FD& field, FD::Type type, ValueKind kind,
                                 std::string_view text, std::string& problem) {
  putVarint((static_cast<uint64_t>(field.number()) << 3) | static_cast<uint64_t>(wireTypeOf(type)),
            scratch_);
  int64_t n = 0;
  uint64_t u = 0;
  double d = 0;
  switch (type) {
  case FD::TYPE_STRING:
  case FD::TYPE_BYTES:
    if (kind == ValueKind::kString || kind == ValueKind::kNumber || kind == ValueKind::kBool ||
        kind == ValueKind::kBytes) {
      putVarint(text.size(), scratch_);
      scratch_.append(text);
      return true;
    }
    break;
  case FD::TYPE_BOOL:
    if (kind == ValueKind::kBool) {
      scratch_.push_back(text == "true" ? 1 : 0);
      return true;
    }
    break;
  case FD::TYPE_ENUM:
    if (kind == ValueKind::kString) {
      if (const auto* symbol = field.enum_type()->FindValueByName(std::string(text))) {
        putVarint(static_cast<uint64_t>(static_cast<int64_t>(symbol->number())), scratch_);
        return true;
      }
    } else if (kind == ValueKind::kNumber && parseWhole(text, n) && n >= INT32_MIN &&
               n <= INT32_MAX) {
      putVarint(static_cast<uint64_t>(n), scratch_);
      return true;
    }
    break;
  case FD::TYPE_INT32:
  case FD::TYPE_SINT32:
  case FD::TYPE_SFIXED32:
    if (kind == ValueKind::kNumber && parseWhole(text, n) && n >= INT32_MIN && n <= INT32_MAX) {
      if (type == FD::TYPE_INT32) {
        putVarint(static_cast<uint64_t>(n), scratch_);
      } else if (type == FD::TYPE_SINT32) {
        putVarint(WireFormatLite::ZigZagEncode32(static_cast<int32_t>(n)), scratch_);
      } else {
        putFixed(static_cast<int32_t>(n), scratch_);
      }
      return true;
    }
    break;
  case FD::TYPE_INT64:
  case FD::TYPE_SINT64:
  case FD::TYPE_SFIXED64:
    if (kind == ValueKind::kNumber && parseWhole(text, n)) {
      if (type == FD::TYPE_INT64) {
        putVarint(static_cast<uint64_t>(n), scratch_);
      } else if (type == FD::TYPE_SINT64) {
        putVarint(WireFormatLite::ZigZagEncode64(n), scratch_);
      } else {
        putFixed(n, scratch_);
      }
      return true;
    }
    break;
  case FD::TYPE_UINT32:
  case FD::TYPE_FIXED32:
    if (kind == ValueKind::kNumber && parseWhole(text, u) && u <= UINT32_MAX) {
      if (type == FD::TYPE_UINT32) {
        putVarint(u, scratch_);
      } else {
        putFixed(static_cast<uint32_t>(u), scratch_);
      }
      return true;
    }
    break;
  case FD::TYPE_UINT64:
  case FD::TYPE_FIXED64:
    if (kind == ValueKind::kNumber && parseWhole(text, u)) {
      if (type == FD::TYPE_UINT64) {
        putVarint(u, scratch_);
      } else {
        putFixed(u, scratch_);
      }
      return true;
    }
    break;
  case FD::TYPE_DOUBLE:
  case FD::TYPE_FLOAT:
    if (kind == ValueKind::kNumber && parseWhole(text, d)) {
      if (type == FD::TYPE_DOUBLE) {
        putFixed(d, scratch_);
      } else {
        putFixed(static_cast<float>(d), scratch_);
      }
      return true;
    }
    break;
  default:
    break;
  }
  problem = std::string("a ") + kindName(kind) + " cannot be written as Protobuf " +
            FD::TypeName(type) + " (field " + field.full_name() + ")";
  return false;
}

bool ProtobufReader::acceptsInsert(const FieldOccurrence& occurrence) const {
  const Location& at = locations_[occurrence.handle];
  return at.message != nullptr && (at.field == nullptr || at.inner_frame >= 0);
}

// A `set` on a field the message does not hold: the field is added at the end of the message
// (Protobuf's fields may come in any order), in the type the derived file gives it (setType()).
bool ProtobufReader::insert(const FieldEdit& edit, std::string_view arena, std::string& problem) {
  const Location& at = locations_[edit.handle];
  const FD* field = at.message->FindFieldByName(std::string(edit.name));
  if (field == nullptr || field->is_repeated()) {
    problem = "message " + at.message->full_name() +
              (field == nullptr ? " has no field " + std::string(edit.name)
                                : ": repeated field " + field->name() + " cannot be set");
    return false;
  }
  const std::string_view text = arena.substr(edit.text_begin, edit.text_size);
  const FD::Type type = setType(*field, edit.value_kind, text);
  const auto begin = static_cast<uint32_t>(scratch_.size());
  if (!encodeField(*field, type, edit.value_kind, text, problem)) {
    return false;
  }
  const auto position = at.inner_frame >= 0 ? frames_[static_cast<size_t>(at.inner_frame)].body_end
                                            : static_cast<uint32_t>(payload_.size());
  splices_.push_back(
      {position, position, at.inner_frame, begin, static_cast<uint32_t>(scratch_.size()) - begin});
  return true;
}

bool ProtobufReader::write(std::span<const FieldEdit> edits, std::string_view arena,
                           std::string& out, std::string& problem) {
  // By position; at one position, an insertion (no bytes replaced) before the field that
  // starts there, and an outer field before the fields inside it. Insertions at one position
  // end messages nested in each other (a message's frame comes after its parent's): the
  // innermost message's come first.
  const auto spliceBefore = [](const Splice& a, const Splice& b) {
    if (a.begin != b.begin) {
      return a.begin < b.begin;
    }
    if ((a.begin == a.end) != (b.begin == b.end)) {
      return a.begin == a.end;
    }
    if (a.begin == a.end) {
      return a.frame > b.frame;
    }
    return a.end > b.end;
  };
  splices_.clear();
  scratch_.clear();
  auto add = [&](uint32_t handle, const FieldEdit* edit) {
    const Location& at = locations_[handle];
    const auto text = static_cast<uint32_t>(scratch_.size());
    if (!encode(at, edit, occurrences_[handle], arena, problem)) {
      return false;
    }
    splices_.push_back(
        {at.begin, at.end, at.frame, text, static_cast<uint32_t>(scratch_.size()) - text});
    return true;
  };
  for (const FieldEdit& edit : edits) {
    if (edit.kind == FieldEdit::Kind::kInsert) {
      if (!insert(edit, arena, problem)) {
        return false;
      }
    } else if (!add(edit.handle, &edit)) {
      return false;
    }
  }
  // Occurrences of retyped or removed fields that no edit touched (values kept as they were)
  // are written again in the derived type, or left out.
  if (retyped_) {
    edited_.assign(occurrences_.size(), false);
    for (const FieldEdit& edit : edits) {
      if (edit.kind != FieldEdit::Kind::kInsert) {
        edited_[edit.handle] = true;
      }
    }
    for (const FieldOccurrence& occurrence : occurrences_) {
      if (shape_->derived.slots[occurrence.slot].change == ProtobufSlotPlan::Change::kNone ||
          edited_[occurrence.handle]) {
        continue;
      }
      if (!add(occurrence.handle, nullptr)) {
        return false;
      }
    }
  }
  // Outer fields first; an edit inside a field already replaced or left out has nothing left
  // to change, nor has a field added at the end of a message inside it. A field added at the
  // end of a message comes before whatever starts there.
  std::sort(splices_.begin(), splices_.end(), spliceBefore);
  size_t kept = 0;
  uint32_t covered_begin = 0;
  uint32_t covered = 0;
  for (const Splice& splice : splices_) {
    const bool inside = splice.begin < covered ||
                        (splice.frame >= 0 && covered_begin < covered &&
                         frames_[static_cast<size_t>(splice.frame)].length_begin >= covered_begin &&
                         frames_[static_cast<size_t>(splice.frame)].body_end <= covered);
    if (inside) {
      continue;
    }
    if (splice.begin != splice.end) {
      covered_begin = splice.begin;
      covered = splice.end;
    }
    splices_[kept++] = splice;
  }
  splices_.resize(kept);
  // The messages around the edits change size: their lengths are written again, innermost
  // first (a message's frame comes after its parent's).
  for (Frame& frame : frames_) {
    frame.delta = 0;
  }
  for (const Splice& splice : splices_) {
    if (splice.frame >= 0) {
      frames_[static_cast<size_t>(splice.frame)].delta +=
          static_cast<int64_t>(splice.size) - static_cast<int64_t>(splice.end - splice.begin);
    }
  }
  for (size_t i = frames_.size(); i-- > 0;) {
    Frame& frame = frames_[i];
    if (frame.delta == 0) {
      continue;
    }
    const auto length = static_cast<uint64_t>(
        static_cast<int64_t>(frame.body_end - frame.body_begin) + frame.delta);
    const auto text = static_cast<uint32_t>(scratch_.size());
    putVarint(length, scratch_);
    const auto size = static_cast<uint32_t>(scratch_.size()) - text;
    splices_.push_back({frame.length_begin, frame.body_begin, -1, text, size});
    if (frame.parent >= 0) {
      frames_[static_cast<size_t>(frame.parent)].delta +=
          frame.delta + static_cast<int64_t>(size) -
          static_cast<int64_t>(frame.body_begin - frame.length_begin);
    }
  }
  std::sort(splices_.begin(), splices_.end(), spliceBefore);
  out.clear();
  out.append(payload_.substr(0, body_));
  size_t pos = body_;
  for (const Splice& splice : splices_) {
    out.append(payload_.substr(pos, splice.begin - pos));
    out.append(std::string_view(scratch_).substr(splice.text, splice.size));
    pos = splice.end;
  }
  out.append(payload_.substr(pos));
  return true;
}

}  // namespace causeway::policies
