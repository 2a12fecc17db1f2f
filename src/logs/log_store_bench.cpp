// How many events per second LogStore::append_events sustains into a real
// database file (WAL, fsync per batch): batches of 1,000 lines of ~100
// bytes, as the awslogs driver ships a chatty container's output.
// Usage: log_store_bench [batches] [batch size]; prints the figure.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "logs/log_store.h"

int main(int argc, char** argv) {
  using namespace berth;
  int batches = argc > 1 ? std::atoi(argv[1]) : 200;
  int size = argc > 2 ? std::atoi(argv[2]) : 1000;
  auto dir = std::filesystem::temp_directory_path() / ("log_store_bench." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    logs::LogStoreOptions options;
    options.account_id = "123456789012";
    options.sweep_interval = std::chrono::milliseconds(0);
    auto store = logs::LogStore::open((dir / "logs.db").string(), options);
    if (!store) {
      std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
      return 1;
    }
    auto& s = **store;
    if (!s.create_log_group_if_missing("/bench").ok() || !s.create_log_stream_if_missing("/bench", "app").ok())
      return 1;
    int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    std::vector<logs::InputEvent> batch(size);
    auto start = std::chrono::steady_clock::now();
    for (int b = 0; b < batches; ++b) {
      for (int i = 0; i < size; ++i)
        batch[i] = {now + b, "2026-12-04T23:00:00Z INFO request " + std::to_string(b * size + i) +
                                 " GET /index.html 200 1534 bytes from 10.0.0.1 in 3 ms"};
      auto st = s.append_events("/bench", "app", batch, "bench", std::to_string(b));
      if (!st) {
        std::fprintf(stderr, "append: %s\n", st.error().message.c_str());
        return 1;
      }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("append_events: %d batches of %d events in %.3f s = %.0f events/s (%.1f ms per batch)\n", batches, size,
                seconds, batches * size / seconds, seconds * 1000 / batches);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
