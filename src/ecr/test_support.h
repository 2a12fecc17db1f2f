// Test helpers for ecr: a temp data dir with a store and an Ecr on a
// manual clock, and a blocking HTTP call over net::testing::RawClient.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "ecr/ecr.h"
#include "net/test_support.h"
#include "store/store.h"

namespace berth::ecr::testing {

inline std::filesystem::path make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "berth-ecr-XXXXXX").string();
  char* made = ::mkdtemp(pattern.data());
  if (made == nullptr) throw std::runtime_error("mkdtemp failed");
  return made;
}

struct Fixture {
  std::filesystem::path dir = make_temp_dir();
  ManualClock clock{std::chrono::system_clock::now()};
  store::Database db = std::move(store::Database::open((dir / "state.db").string()).value());
  std::unique_ptr<Ecr> ecr;

  explicit Fixture(RegistryAccess access = {}) {
    EcrOptions options;
    options.data_dir = dir / "ecr";
    options.account_id = "123456789012";
    options.clock = &clock;
    options.upload_ttl = std::chrono::seconds(600);
    options.registry.io_buffer_bytes = 64 * 1024;
    ecr = std::move(Ecr::open(db, std::move(options), std::move(access)).value());
  }
  ~Fixture() { std::filesystem::remove_all(dir); }

  void create_repository(const std::string& name, const std::string& mutability = "MUTABLE") {
    RepositoryRecord r;
    r.name = name;
    r.tag_mutability = mutability;
    ASSERT_TRUE(ecr->catalog().create_repository(r, {}).ok());
  }
  std::string basic_auth(const std::string& key = "AKIATEST") {
    return "Basic " + base64_encode("AWS:" + ecr->tokens().issue(key).password);
  }
  size_t temp_files() const {
    size_t n = 0;
    for (auto& e : std::filesystem::directory_iterator(dir / "ecr" / "blobs" / "tmp")) n += e.is_regular_file();
    return n;
  }
  size_t blob_files() const {
    size_t n = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir / "ecr" / "blobs" / "sha256")) {
      n += e.is_regular_file();
    }
    return n;
  }
};

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

inline Reply parse_reply(const std::string& raw) {
  Reply r;
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos || raw.size() < 12) return r;
  r.status = std::stoi(raw.substr(9, 3));
  size_t pos = raw.find("\r\n") + 2;
  while (pos < end) {
    size_t eol = raw.find("\r\n", pos);
    std::string line = raw.substr(pos, eol - pos);
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[name] = value;
    pos = eol + 2;
  }
  r.body = raw.substr(end + 4);
  return r;
}

// One request on a fresh connection (Connection: close), read to the end.
inline Reply call(uint16_t port, const std::string& method, const std::string& target, const std::string& auth,
                  const std::string& body = {}, const std::map<std::string, std::string>& headers = {}) {
  net::testing::RawClient c(port);
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\n";
  if (!auth.empty()) req += "Authorization: " + auth + "\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "PUT" || method == "POST" || method == "PATCH") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n";
  req += body;
  c.send(req);
  std::string raw = c.read_until("\r\n\r\n\r\n\r\n", 1, 5000);  // i.e. until the server closes
  return parse_reply(raw);
}

inline net::Handler handler_of(Registry& registry) {
  return [&registry](net::Request& r) { return registry.handle(r); };
}

}  // namespace berth::ecr::testing
