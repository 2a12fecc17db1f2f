#include "core/ids.h"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace berth::ids {
namespace {

void fill_random(unsigned char* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

// Picks `chars` symbols uniformly from `alphabet` (rejection sampling keeps it unbiased).
std::string from_alphabet(std::string_view alphabet, size_t chars) {
  std::string out;
  out.reserve(chars);
  const unsigned limit = 256 - (256 % alphabet.size());
  std::array<unsigned char, 64> buf;
  while (out.size() < chars) {
    fill_random(buf.data(), buf.size());
    for (unsigned char b : buf) {
      if (b >= limit) continue;
      out.push_back(alphabet[b % alphabet.size()]);
      if (out.size() == chars) break;
    }
  }
  return out;
}

}  // namespace

std::string random_hex(size_t chars) { return from_alphabet("0123456789abcdef", chars); }

std::string random_alnum_upper(size_t chars) {
  return from_alphabet("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", chars);
}

std::string random_base64ish(size_t chars) {
  return from_alphabet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", chars);
}

std::string uuid4() {
  std::string h = random_hex(32);
  h[12] = '4';
  h[16] = "89ab"[h[16] % 4];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20, 12);
}

std::string account_id() { return from_alphabet("123456789", 1) + from_alphabet("0123456789", 11); }

std::string prefixed(std::string_view prefix, size_t hex_chars) {
  return std::string(prefix) + random_hex(hex_chars);
}

}  // namespace berth::ids
