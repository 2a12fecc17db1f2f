#include "cli/awslogs_wiring.h"

#if BERTH_HAVE_LOGS && BERTH_HAVE_ECS_RUNTIME

#include <vector>

namespace berth::cli {
namespace {

class LogStoreDestination final : public runtime::LogDestination {
 public:
  explicit LogStoreDestination(std::shared_ptr<logs::LogStore> store) : store_(std::move(store)) {}

  Status append(const std::string& group, const std::string& stream, std::span<const Event> events,
                const std::string& source, const std::string& cursor) override {
    std::vector<logs::InputEvent> in;
    in.reserve(events.size());
    for (const auto& e : events) in.push_back({e.timestamp_ms, e.message});
    return store_->append_events(group, stream, in, source, cursor);
  }
  Result<std::optional<std::string>> cursor(const std::string& source) override { return store_->read_cursor(source); }
  Status forget(const std::string& source) override { return store_->forget_cursor(source); }

 private:
  std::shared_ptr<logs::LogStore> store_;
};

}  // namespace

std::shared_ptr<runtime::LogDestination> awslogs_destination(std::shared_ptr<logs::LogStore> store) {
  return std::make_shared<LogStoreDestination>(std::move(store));
}

ecs::LogStreamPreparer awslogs_stream_preparer(std::shared_ptr<logs::LogStore> store) {
  return [store](const std::string& group, const std::string& stream, bool create_group) -> Status {
    if (create_group)
      if (auto made = store->create_log_group_if_missing(group); !made) return made;
    return store->create_log_stream_if_missing(group, stream);
  };
}

}  // namespace berth::cli

#endif
