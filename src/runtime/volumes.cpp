#include "runtime/volumes.h"

#include <optional>
#include <set>

#include "runtime/subprocess.h"

namespace berth::runtime {

namespace fs = std::filesystem;

namespace {

// ECS's volume name rule (letters, digits, '_', '-'; 255 at most), which
// also keeps a name from escaping its directory.
bool valid_volume_name(const std::string& name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

bool has_dot_dot(const fs::path& path) {
  for (const auto& part : path)
    if (part == "..") return true;
  return false;
}

// `path` looked up inside `root` as the container will see it: symlinks
// (absolute or relative) resolved against root, ".." never above it.
// nullopt when it does not resolve to a directory there.
std::optional<fs::path> directory_in_root(const fs::path& root, const fs::path& path) {
  std::vector<std::string> pending;
  for (const auto& part : path.relative_path()) pending.insert(pending.begin(), part.string());
  std::vector<std::string> resolved;  // components below root
  int hops = 0;
  while (!pending.empty()) {
    std::string part = pending.back();
    pending.pop_back();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!resolved.empty()) resolved.pop_back();
      continue;
    }
    fs::path here = root;
    for (const auto& r : resolved) here /= r;
    here /= part;
    std::error_code ec;
    auto status = fs::symlink_status(here, ec);
    if (ec) return std::nullopt;
    if (fs::is_symlink(status)) {
      if (++hops > 40) return std::nullopt;  // a loop
      fs::path target = fs::read_symlink(here, ec);
      if (ec) return std::nullopt;
      if (target.is_absolute()) resolved.clear();
      std::vector<std::string> parts;
      for (const auto& t : target.relative_path()) parts.push_back(t.string());
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) pending.push_back(*it);
      continue;
    }
    resolved.push_back(part);
  }
  fs::path out = root;
  for (const auto& r : resolved) out /= r;
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(out, ec))) return std::nullopt;
  return out;
}

bool empty_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec) && fs::directory_iterator(p, ec) == fs::directory_iterator();
}

}  // namespace

Result<std::map<std::string, PreparedVolume>> prepare_volumes(const std::vector<Volume>& volumes,
                                                              const fs::path& task_dir, const fs::path& shared_dir) {
  std::map<std::string, PreparedVolume> out;
  std::vector<fs::path> to_make;
  for (const auto& v : volumes) {
    if (!valid_volume_name(v.name))
      return Error::invalid("InvalidVolume", "ResourceInitializationError: invalid volume name \"" + v.name + "\"");
    PreparedVolume p;
    switch (v.kind) {
      case Volume::Kind::kScratch:
        // The agent makes it a task-scoped local Docker volume: copy-up applies.
        p.docker = true;
        p.path = task_dir / "volumes" / v.name;
        break;
      case Volume::Kind::kHostPath:
        if (v.host_path.empty() || v.host_path[0] != '/')
          return Error::invalid("InvalidVolume", "ResourceInitializationError: host sourcePath \"" + v.host_path +
                                                     "\" of volume " + v.name + " is not absolute");
        p.path = fs::path(v.host_path).lexically_normal();
        break;
      case Volume::Kind::kDocker:
        p.docker = true;
        if (!v.shared) {
          p.path = task_dir / "volumes" / v.name;
          break;
        }
        p.path = shared_dir / v.name / "_data";
        if (!v.autoprovision && !fs::is_directory(p.path)) {
          // The agent's words (the daemon wiring adds "resource cannot be initialized for task <arn>: ").
          return Error::not_found("VolumeNotFound", "initialize volume: volume detection failed, volume '" + v.name +
                                                        "' does not exist and autoprovision is set to false: "
                                                        "Error: No such volume: " + v.name);
        }
        break;
    }
    to_make.push_back(p.path);
    out[v.name] = std::move(p);
  }
  for (const auto& path : to_make) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec)
      return Error::internal("ResourceInitializationError: cannot create volume directory " + path.string() + ": " +
                             ec.message());
  }
  return out;
}

Result<std::vector<BindMount>> container_binds(const TaskSpec& task, size_t container,
                                               const std::map<std::string, PreparedVolume>& volumes) {
  std::vector<BindMount> out;
  std::set<std::string> visited;
  // Depth-first over volumesFrom; `force_ro` carries a readOnly volumesFrom down the chain.
  auto add = [&](auto&& self, size_t index, bool force_ro) -> Status {
    const auto& c = task.containers[index];
    if (!visited.insert(c.name).second) return Ok{};
    for (const auto& m : c.mount_points) {
      if (m.container_path.empty() || m.container_path[0] != '/' || has_dot_dot(m.container_path))
        return Error::invalid("InvalidMount", "container " + c.name + ": bad containerPath '" + m.container_path + "'");
      auto v = volumes.find(m.source_volume);
      if (v == volumes.end())
        return Error::invalid("InvalidMount", "container " + c.name + ": unknown volume '" + m.source_volume + "'");
      bool taken = false;
      for (const auto& b : out) taken = taken || b.destination == m.container_path;
      if (!taken) out.push_back({v->second.path.string(), m.container_path, m.read_only || force_ro});
    }
    for (const auto& from : c.volumes_from) {
      size_t source = task.containers.size();
      for (size_t i = 0; i < task.containers.size(); ++i)
        if (task.containers[i].name == from.source_container) source = i;
      if (source == task.containers.size())
        return Error::invalid("InvalidMount",
                              "container " + c.name + ": volumesFrom unknown container '" + from.source_container + "'");
      if (auto s = self(self, source, force_ro || from.read_only); !s) return s;
    }
    return Ok{};
  };
  if (auto s = add(add, container, false); !s) return std::move(s).error();
  return out;
}

Status copy_up(const std::map<std::string, PreparedVolume>& volumes, const std::vector<BindMount>& binds,
               const std::string& image_rootfs) {
  for (const auto& b : binds) {
    bool docker = false;
    for (const auto& [name, v] : volumes) docker = docker || (v.docker && v.path.string() == b.source);
    if (!docker || !empty_dir(b.source)) continue;
    // Resolved as inside the container: an image's symlink or a ".." must
    // not reach the host's own directories (this copy runs as root).
    auto from = directory_in_root(image_rootfs, b.destination);
    if (!from || empty_dir(*from)) continue;
    // cp -a keeps owners, modes, links and times, as Docker's copy-up does.
    auto r = run_program({"cp", "-a", "--", from->string() + "/.", b.source + "/"}, std::chrono::seconds(120));
    if (!r || r->exit_code != 0)
      return Error::internal("ResourceInitializationError: copying " + b.destination + " into its volume failed: " +
                             (r ? r->err : r.error().message));
  }
  return Ok{};
}

}  // namespace berth::runtime
