#include "policies/envelope.h"

namespace causeway::policies {

Result<EnvelopeSealer> EnvelopeSealer::create(std::shared_ptr<const KeySet> keys) {
  if (!keys || keys->keys().empty()) {
    return Error{"no encryption key"};
  }
  Result<AesGcm> cipher = AesGcm::create(keys->active().key);
  if (!cipher) {
    return cipher.error();
  }
  EnvelopeSealer sealer(std::move(keys), std::move(*cipher));
  const KeyEntry& key = sealer.keys_->active();
  sealer.header_ += static_cast<char>(kEnvelopeVersion);
  sealer.header_ += static_cast<char>(key.id.size());
  sealer.header_ += key.id;
  sealer.header_ += 's';  // replaced by the type of each value
  return sealer;
}

bool EnvelopeSealer::seal(PlainType type, std::string_view plaintext, std::string& out) {
  header_.back() = static_cast<char>(type);
  const size_t total = header_.size() + kGcmNonceBytes + plaintext.size() + kGcmTagBytes;
  binary_.resize(total);
  auto* bytes = reinterpret_cast<uint8_t*>(binary_.data());
  std::copy(header_.begin(), header_.end(), binary_.begin());
  uint8_t* nonce = bytes + header_.size();
  if (nonces_left_ == 0) {
    if (!randomBytes(nonces_)) {
      return false;
    }
    nonces_left_ = kNonceBatch;
  }
  --nonces_left_;
  uint8_t* drawn = nonces_ + nonces_left_ * kGcmNonceBytes;
  std::copy(drawn, drawn + kGcmNonceBytes, nonce);
  wipe(drawn, kGcmNonceBytes);  // a nonce is used once
  uint8_t* ciphertext = nonce + kGcmNonceBytes;
  uint8_t tag[kGcmTagBytes];
  if (!cipher_.encrypt(std::span<const uint8_t, kGcmNonceBytes>(nonce, kGcmNonceBytes), header_,
                       plaintext, ciphertext, tag)) {
    return false;
  }
  std::copy(std::begin(tag), std::end(tag), ciphertext + plaintext.size());
  out += kEnvelopePrefix;
  appendBase64Url(std::span<const uint8_t>(bytes, total), out);
  return true;
}

Result<Opened> EnvelopeOpener::open(std::string_view text) {
  if (!looksLikeEnvelope(text)) {
    return Error{"not an encrypted value (no " + std::string(kEnvelopePrefix) + " prefix)"};
  }
  std::string binary;
  if (!decodeBase64Url(text.substr(kEnvelopePrefix.size()), binary)) {
    return Error{"not an encrypted value (the envelope is not base64url)"};
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(binary.data());
  if (binary.size() < 2) {
    return Error{"truncated envelope"};
  }
  if (bytes[0] != kEnvelopeVersion) {
    return Error{"envelope version " + std::to_string(bytes[0]) + " is not supported (only " +
                 std::to_string(kEnvelopeVersion) + ")"};
  }
  const size_t id_length = bytes[1];
  const size_t header = 2 + id_length + 1;
  if (id_length == 0 || id_length > kMaxKeyIdLength ||
      binary.size() < header + kGcmNonceBytes + kGcmTagBytes) {
    return Error{"truncated envelope"};
  }
  Opened out;
  out.key_id = binary.substr(2, id_length);
  const char type = binary[2 + id_length];
  if (type != 's' && type != 'n' && type != 'b' && type != 'j' && type != 'y') {
    return Error{"unknown value type in the envelope"};
  }
  out.type = static_cast<PlainType>(type);
  const KeyEntry* key = keys_->find(out.key_id);
  if (key == nullptr) {
    return Error{"encrypted with key id '" + out.key_id + "', which the key file does not hold"};
  }
  AesGcm* cipher = nullptr;
  for (auto& [id, c] : ciphers_) {
    if (id == out.key_id) {
      cipher = c.get();
    }
  }
  if (cipher == nullptr) {
    Result<AesGcm> created = AesGcm::create(key->key);
    if (!created) {
      return created.error();
    }
    ciphers_.emplace_back(out.key_id, std::make_unique<AesGcm>(std::move(*created)));
    cipher = ciphers_.back().second.get();
  }
  const size_t ciphertext_length = binary.size() - header - kGcmNonceBytes - kGcmTagBytes;
  out.plaintext.resize(ciphertext_length);
  const uint8_t* nonce = bytes + header;
  const uint8_t* tag = nonce + kGcmNonceBytes + ciphertext_length;
  if (!cipher->decrypt(std::span<const uint8_t, kGcmNonceBytes>(nonce, kGcmNonceBytes),
                       std::string_view(binary.data(), header),
                       std::string_view(binary.data() + header + kGcmNonceBytes, ciphertext_length),
                       std::span<const uint8_t, kGcmTagBytes>(tag, kGcmTagBytes),
                       reinterpret_cast<uint8_t*>(out.plaintext.data()))) {
    wipe(out.plaintext.data(), out.plaintext.size());
    return Error{"the envelope does not decrypt with key '" + out.key_id +
                 "' (a different key with the same id, or altered bytes)"};
  }
  return out;
}

}  // namespace causeway::policies
