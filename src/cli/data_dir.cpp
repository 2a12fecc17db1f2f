#include "cli/data_dir.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/durable_file.h"

namespace berth::cli {
std::string default_data_dir() {
  const char* home = std::getenv("HOME");
  std::string base;
  if (home && *home) {
    base = home;
  } else if (const passwd* pw = ::getpwuid(::getuid())) {
    base = pw->pw_dir;
  } else {
    base = "/tmp";
  }
  return base + "/.local/share/berth";
}

std::string data_dir_or_default(const std::string& given) { return given.empty() ? default_data_dir() : given; }

Result<std::string> prepare_data_dir(std::string_view dir) {
  std::error_code ec;
  std::filesystem::path path = std::filesystem::absolute(std::filesystem::path(dir), ec);
  if (ec) return Error::invalid("InvalidDataDir", "cannot resolve " + std::string(dir) + ": " + ec.message());
  std::filesystem::create_directories(path, ec);
  if (ec) return Error::invalid("InvalidDataDir", "cannot create " + path.string() + ": " + ec.message());
  ::chmod(path.c_str(), 0700);
  // Say so at once rather than through SQLite's "unable to open database file".
  if (::access(path.c_str(), W_OK) != 0)
    return Error::invalid("InvalidDataDir", path.string() + " is not writable: " + std::strerror(errno) +
                                                " (berth keeps its state there)");
  return path.lexically_normal().string();
}

Status write_private_file(const std::string& dir, std::string_view name, std::string_view content) {
  return write_file_durably(dir + "/" + std::string(name), content, 0600);
}

Result<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::not_found("NotFound", "cannot open " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status write_credentials(const std::string& dir, const BootstrapCredentials& c) {
  return write_private_file(dir, "credentials",
                            "aws_access_key_id=" + c.access_key_id + "\naws_secret_access_key=" +
                                c.secret_access_key + "\n");
}

Result<BootstrapCredentials> read_credentials(const std::string& dir) {
  auto text = read_file(dir + "/credentials");
  if (!text) return std::move(text).error();
  BootstrapCredentials c;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    if (end == std::string::npos) end = text->size();
    std::string_view line(text->data() + pos, end - pos);
    size_t eq = line.find('=');
    if (eq != std::string_view::npos) {
      auto key = line.substr(0, eq), value = line.substr(eq + 1);
      if (key == "aws_access_key_id") c.access_key_id = value;
      if (key == "aws_secret_access_key") c.secret_access_key = value;
    }
    pos = end + 1;
  }
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    return Error::invalid("InvalidCredentials", dir + "/credentials has no access key");
  return c;
}

Status write_endpoint(const std::string& dir, std::string_view endpoint) {
  return write_private_file(dir, "endpoint", std::string(endpoint) + "\n");
}

Result<std::string> read_endpoint(const std::string& dir) {
  auto text = read_file(dir + "/endpoint");
  if (!text) return std::move(text).error();
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
  if (text->empty()) return Error::invalid("InvalidEndpoint", dir + "/endpoint is empty");
  return std::move(*text);
}

}  // namespace berth::cli
