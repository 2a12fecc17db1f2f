#include "cli/task_runtime_wiring.h"

#if BERTH_HAVE_ECS_RUNTIME && BERTH_HAVE_ECR && BERTH_HAVE_EC2_API

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <system_error>

#include "core/log.h"

namespace berth::cli {

namespace fs = std::filesystem;

std::optional<ImageReference> parse_image_reference(const std::string& image) {
  auto slash = image.find('/');
  if (slash == std::string::npos || slash == 0) return std::nullopt;
  ImageReference r;
  r.host = image.substr(0, slash);
  std::string rest = image.substr(slash + 1);
  if (auto at = rest.find('@'); at != std::string::npos) {
    r.repository = rest.substr(0, at);
    r.reference = rest.substr(at + 1);
  } else {
    auto colon = rest.rfind(':');
    if (colon != std::string::npos && rest.find('/', colon) == std::string::npos) {
      r.repository = rest.substr(0, colon);
      r.reference = rest.substr(colon + 1);
    } else {
      r.repository = rest;
      r.reference = "latest";
    }
  }
  if (r.repository.empty() || r.reference.empty()) return std::nullopt;
  return r;
}

namespace {

Error cannot_pull(const std::string& image, const std::string& why) {
  return Error::not_found("CannotPullContainerError",
                          "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref " +
                              image + ": " + why);
}

// This daemon's registry: ADDR:PORT as repositoryUri gives it (the Host the
// caller used), localhost:PORT, or ECR's own host name.
bool is_our_registry(const std::string& host, const DaemonContext& ctx) {
  std::string port = ":" + std::to_string(ctx.port);
  return host == ctx.bind_address + port || host == "localhost" + port || host == "127.0.0.1" + port ||
         host == ctx.account_id + ".dkr.ecr." + ctx.region + ".amazonaws.com";
}

std::string safe_name(std::string digest) {
  for (char& c : digest) {
    if (c == ':' || c == '/') c = '-';
  }
  return digest;
}

}  // namespace

Result<std::shared_ptr<TaskRuntimeWiring>> TaskRuntimeWiring::start(DaemonContext& ctx, std::shared_ptr<ecr::Ecr> ecr,
                                                                  TaskRuntimeHooks hooks) {
  std::shared_ptr<TaskRuntimeWiring> w(new TaskRuntimeWiring());
  w->ecr_ = std::move(ecr);
  auto groups = ec2::SecurityGroupPublisher::start(ctx.db);
  if (!groups) return std::move(groups).error();
  w->groups_ = std::move(*groups);

  runtime::RuncRuntimeOptions o;
  o.data_dir = ctx.data_dir;  // the runtime keeps its files under <data_dir>/runtime/
  o.log_destination = std::move(hooks.log_destination);
  ec2::SecurityGroupPublisher* publisher = w->groups_.get();
  o.security_groups = [publisher] { return publisher->current(); };
  TaskRuntimeWiring* self = w.get();
  o.on_event = [self](const runtime::TaskEvent& e) { self->forward(e); };
  fs::path layouts = fs::path(ctx.data_dir) / "runtime" / "layouts";
  ecr::Ecr* registry = w->ecr_.get();
  const DaemonContext* context = &ctx;
  // Layouts written, by the registry's digest of the image (content
  // addressed: the same digest is always the same layout). A cached image
  // then costs a tag lookup, not a layout of hard links per task start.
  struct Layouts {
    std::mutex mutex;
    std::map<std::string, runtime::ImageSource> by_image_digest;
  };
  auto written_layouts = std::make_shared<Layouts>();
  o.resolve_image = [registry, layouts, context, written_layouts](const std::string& image) -> Result<runtime::ImageSource> {
    auto ref = parse_image_reference(image);
    if (!ref) return cannot_pull(image, "invalid reference format");
    if (!is_our_registry(ref->host, *context)) return cannot_pull(image, "not found (only this berth's registry is reachable)");
    auto digest = registry->image_digest(ref->repository, ref->reference);
    if (!digest) return cannot_pull(image, digest.error().message);
    std::error_code ec;
    {
      std::lock_guard lock(written_layouts->mutex);
      auto it = written_layouts->by_image_digest.find(*digest);
      if (it != written_layouts->by_image_digest.end() && fs::exists(fs::path(it->second.layout_dir) / "index.json", ec))
        return it->second;
    }
    static std::atomic<uint64_t> counter{0};
    fs::create_directories(layouts, ec);
    fs::path tmp = layouts / (".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)));
    fs::remove_all(tmp, ec);
    // By digest: a tag moved meanwhile does not change what this task runs.
    auto written = registry->write_oci_layout(ref->repository, *digest, tmp, "latest");
    if (!written) {
      fs::remove_all(tmp, ec);
      return cannot_pull(image, written.error().message);
    }
    fs::path dir = layouts / safe_name(written->manifest_digest);
    fs::rename(tmp, dir, ec);
    if (ec) fs::remove_all(tmp, ec);  // already there (same digest, same content)
    if (!fs::exists(dir / "index.json", ec)) return cannot_pull(image, "cannot write the image layout");
    runtime::ImageSource source{dir.string(), written->manifest_digest, "latest", "", ""};
    std::lock_guard lock(written_layouts->mutex);
    written_layouts->by_image_digest[*digest] = source;
    return source;
  };
  w->runtime_ = std::make_unique<runtime::RuncTaskRuntime>(std::move(o));
  if (const Status& ready = w->runtime_->startup_status(); !ready) return ready.error();
  {
    std::lock_guard lock(w->launcher_mutex_);
    w->launcher_ = std::make_unique<ecs::RuntimeTaskLauncher>(ctx.db, ctx.clock, *w->runtime_,
                                                              std::move(hooks.secrets), std::move(hooks.log_streams));
  }
  // Tasks an earlier daemon left: running ones are reported RUNNING again,
  // gone ones STOPPED (and forgotten).
  for (const auto& state : w->runtime_->adopt()) {
    runtime::TaskEvent e;
    e.kind = state.stopped ? runtime::EventKind::kTaskStopped : runtime::EventKind::kHealthChanged;
    e.task_id = state.task_id;
    e.state = state;
    w->forward(e);
  }
  return w;
}

void TaskRuntimeWiring::forward(const runtime::TaskEvent& event) {
  std::lock_guard lock(launcher_mutex_);
  if (launcher_) launcher_->on_event(event);
}

void TaskRuntimeWiring::stop() {
  std::unique_ptr<ecs::RuntimeTaskLauncher> launcher;
  {
    std::lock_guard lock(launcher_mutex_);
    launcher = std::move(launcher_);
  }
  launcher.reset();  // joins its worker (which may be in runtime_->start)
  runtime_.reset();  // stops the monitor; containers keep running
  groups_.reset();
}

TaskRuntimeWiring::~TaskRuntimeWiring() { stop(); }

}  // namespace berth::cli

#endif
