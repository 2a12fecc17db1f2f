#include "runtime/log_shipper.h"

#include "runtime/logs.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <thread>

namespace berth::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// CloudWatch Logs is another module; here an in-memory destination with the
// same contract (events and cursor kept together), which can be told to fail.
class MemoryDestination final : public LogDestination {
 public:
  Status append(const std::string& group, const std::string& stream, std::span<const Event> events,
                const std::string& source, const std::string& cursor) override {
    std::lock_guard lock(mutex_);
    if (failing_) return Error::unavailable("disk full");
    if (group == "gone") return Error::not_found("ResourceNotFoundException", "The specified log group does not exist.");
    for (const auto& e : events) lines_.push_back(stream + ": " + e.message);
    cursors_[source] = cursor;
    ++batches_;
    return Ok{};
  }
  Result<std::optional<std::string>> cursor(const std::string& source) override {
    std::lock_guard lock(mutex_);
    auto it = cursors_.find(source);
    if (it == cursors_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status forget(const std::string& source) override {
    std::lock_guard lock(mutex_);
    cursors_.erase(source);
    return Ok{};
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  void set_failing(bool failing) {
    std::lock_guard lock(mutex_);
    failing_ = failing;
  }
  bool has_cursor(const std::string& source) {
    std::lock_guard lock(mutex_);
    return cursors_.count(source) > 0;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
  std::map<std::string, std::string> cursors_;
  bool failing_ = false;
  int batches_ = 0;
};

class LogShipperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("berth-log-shipper-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    // The runtime's layout, so logs.h reads it as `berth logs` does.
    fs::create_directories(dir_ / "runtime" / "logs" / "t1");
    file_ = dir_ / "runtime" / "logs" / "t1" / "app.log";
    std::ofstream(file_).close();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& text) {
    std::ofstream out(file_, std::ios::app | std::ios::binary);
    out << text;
  }
  // Waits (bounded) until the destination holds `count` lines.
  std::vector<std::string> wait_lines(size_t count, std::chrono::milliseconds limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (destination_->lines().size() < count && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    return destination_->lines();
  }

  fs::path dir_, file_;
  std::shared_ptr<MemoryDestination> destination_ = std::make_shared<MemoryDestination>();
  AwsLogsConfig config_{.group = "/ecs/app", .stream = "ecs/app/t1"};
};

TEST(CutEvents, LinesWithoutNewlinesAndEmptyLinesDropped) {
  auto cut = cut_events("one\n\ntwo\npart", false, 7);
  ASSERT_EQ(cut.events.size(), 2u);
  EXPECT_EQ(cut.events[0].message, "one");
  EXPECT_EQ(cut.events[1].message, "two");
  EXPECT_EQ(cut.events[1].timestamp_ms, 7);
  EXPECT_EQ(cut.ends[0], 4u);
  EXPECT_EQ(cut.consumed, 9u) << "the partial last line waits for its newline";

  auto flushed = cut_events("one\npart", true, 7);
  ASSERT_EQ(flushed.events.size(), 2u);
  EXPECT_EQ(flushed.events[1].message, "part");
  EXPECT_EQ(flushed.consumed, 8u);
}

TEST(CutEvents, LongLineSplitAtTheEventLimit) {
  std::string line(kMaxEventBytes + 10, 'x');
  auto cut = cut_events(line + "\n", false, 1);
  ASSERT_EQ(cut.events.size(), 2u);
  EXPECT_EQ(cut.events[0].message.size(), kMaxEventBytes);
  EXPECT_EQ(cut.events[1].message.size(), 10u);
  EXPECT_EQ(cut.consumed, line.size() + 1);
  // Without its newline, a full-size piece still goes; the rest waits.
  auto partial = cut_events(line, false, 1);
  ASSERT_EQ(partial.events.size(), 1u);
  EXPECT_EQ(partial.consumed, kMaxEventBytes);
}

TEST(CutEvents, MessagesAreValidUtf8) {
  // A Latin-1 byte, a truncated sequence, a surrogate, and good text.
  auto cut = cut_events("caf\xe9\nend \xe2\x82\n\xed\xa0\x80!\nna\xc3\xafve \xf0\x9f\x9a\xa2\n", false, 1);
  ASSERT_EQ(cut.events.size(), 4u);
  EXPECT_EQ(cut.events[0].message, "caf\xef\xbf\xbd");
  EXPECT_EQ(cut.events[1].message, "end \xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(cut.events[2].message, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!");
  EXPECT_EQ(cut.events[3].message, "na\xc3\xafve \xf0\x9f\x9a\xa2") << "valid text is kept as it is";
  EXPECT_EQ(cut.ends[0], 5u) << "positions count the file's bytes";

  // A long line of 3-byte characters is cut between characters.
  std::string euro;
  for (size_t i = 0; i < kMaxEventBytes / 3 + 10; ++i) euro += "\xe2\x82\xac";
  auto long_cut = cut_events(euro + "\n", false, 1);
  ASSERT_EQ(long_cut.events.size(), 2u);
  EXPECT_LE(long_cut.events[0].message.size(), kMaxEventBytes);
  EXPECT_EQ(long_cut.events[0].message.size() % 3, 0u);
  EXPECT_EQ(long_cut.events[0].message.size() + long_cut.events[1].message.size(), euro.size());
}

TEST_F(LogShipperTest, ShipsLinesAndTheLastPartialOneWhenTheContainerExits) {
  LogShipper shipper(destination_, 20ms, 0);
  shipper.watch("t1/app", file_, config_);
  write("hello\nworld\nno newline yet");
  auto lines = wait_lines(2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "ecs/app/t1: hello");
  EXPECT_EQ(lines[1], "ecs/app/t1: world");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(destination_->lines().size(), 2u) << "a partial line waits while the container runs";
  shipper.container_exited("t1/app");
  lines = wait_lines(3);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], "ecs/app/t1: no newline yet");
  EXPECT_EQ(shipper.counters("t1/app").events, 3u);
  shipper.finish("t1/app");
  EXPECT_FALSE(destination_->has_cursor("t1/app")) << "finish forgets the source";
}

TEST_F(LogShipperTest, ARestartedShipperResumesAfterTheLastAppendedBatch) {
  {
    LogShipper shipper(destination_, 20ms, 0);
    shipper.watch("t1/app", file_, config_);
    write("a\nb\n");
    ASSERT_EQ(wait_lines(2).size(), 2u);
  }  // the daemon goes away; the container writes on
  write("c\nd\n");
  LogShipper again(destination_, 20ms, 0);
  again.watch("t1/app", file_, config_);
  auto lines = wait_lines(4);
  std::this_thread::sleep_for(100ms);
  lines = destination_->lines();
  ASSERT_EQ(lines.size(), 4u) << "nothing lost, nothing twice";
  EXPECT_EQ(lines[2], "ecs/app/t1: c");
  EXPECT_EQ(lines[3], "ecs/app/t1: d");
}

TEST_F(LogShipperTest, TheShippedPartBecomesAHoleAndNothingIsLostOrRepeated) {
  // All but the newest 64 KiB of what is shipped is freed.
  LogShipper shipper(destination_, 5ms, 64 << 10);
  shipper.watch("t1/app", file_, config_);
  constexpr int kLines = 200000;  // ~2.7 MB
  std::string chunk;
  for (int i = 0; i < kLines; ++i) {
    chunk += "line " + std::to_string(i) + "\n";
    if (i % 5000 == 4999) write(chunk), chunk.clear();
  }
  auto lines = wait_lines(kLines, 20s);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kLines));
  for (int i = 0; i < kLines; ++i) ASSERT_EQ(lines[i], "ecs/app/t1: line " + std::to_string(i)) << "at " << i;
  shipper.nudge();
  std::this_thread::sleep_for(50ms);
  struct stat st{};
  ASSERT_EQ(::stat(file_.c_str(), &st), 0);
  EXPECT_GT(static_cast<uint64_t>(st.st_size), 2u << 20) << "offsets stay valid: the size is kept";
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 2u << 20) << "the shipped part no longer takes space";
  // `berth logs` reads the tail, from the first data on.
  auto logs = read_logs(dir_, "t1", 1000);
  ASSERT_TRUE(logs.ok()) << logs.error().message;
  ASSERT_EQ(logs->size(), 1u);
  const std::string& text = (*logs)[0].text;
  EXPECT_EQ(text.find('\0'), std::string::npos) << "no bytes of the hole";
  EXPECT_EQ(text.substr(text.size() - 12), "line 199999\n");
  runtime::LogFollower follower(dir_, "t1", "app", true);
  std::string followed = follower.read_new();
  EXPECT_EQ(followed.find('\0'), std::string::npos);
  EXPECT_LT(followed.size(), 2u << 20);
}

TEST_F(LogShipperTest, ARotationWhileTheDaemonWasDownIsFoundFromTheCursor) {
  {
    LogShipper shipper(destination_, 20ms, 0);
    shipper.watch("t1/app", file_, config_);
    write("first\n");
    ASSERT_EQ(wait_lines(1).size(), 1u);
  }
  // Written, then rotated (copy + truncate) while no shipper ran, then more.
  write("second\n");
  std::this_thread::sleep_for(20ms);  // a distinct mtime for .log.1
  fs::copy_file(file_, fs::path(file_) += ".1", fs::copy_options::overwrite_existing);
  fs::resize_file(file_, 0);
  write("third\n");
  LogShipper again(destination_, 20ms, 0);
  again.watch("t1/app", file_, config_);
  auto lines = wait_lines(3);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1], "ecs/app/t1: second");
  EXPECT_EQ(lines[2], "ecs/app/t1: third");
}

TEST_F(LogShipperTest, BlockingModeWaitsForTheDestinationAndDropsNothing) {
  destination_->set_failing(true);
  LogShipper shipper(destination_, 10ms, 0);
  shipper.watch("t1/app", file_, config_);
  for (int i = 0; i < 100; ++i) write("line " + std::to_string(i) + "\n");
  std::this_thread::sleep_for(100ms);
  EXPECT_GT(shipper.counters("t1/app").failed_batches, 0u);
  destination_->set_failing(false);
  auto lines = wait_lines(100);
  ASSERT_EQ(lines.size(), 100u);
  EXPECT_EQ(lines[0], "ecs/app/t1: line 0");
  EXPECT_EQ(shipper.counters("t1/app").dropped_bytes, 0u);
}

TEST_F(LogShipperTest, NonBlockingModeDropsTheOldestBeyondTheBufferAndCountsThem) {
  destination_->set_failing(true);
  AwsLogsConfig config = config_;
  config.non_blocking = true;
  config.max_buffer_bytes = 100;
  LogShipper shipper(destination_, 10ms, 0);
  shipper.watch("t1/app", file_, config);
  std::string all;
  for (int i = 0; i < 100; ++i) all += "line " + std::to_string(i) + "\n";
  write(all);
  std::this_thread::sleep_for(100ms);
  destination_->set_failing(false);
  auto lines = wait_lines(1);
  std::this_thread::sleep_for(100ms);
  lines = destination_->lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_LE(lines.size(), 13u) << "at most the last 100 bytes";
  EXPECT_EQ(lines.back(), "ecs/app/t1: line 99");
  for (const auto& l : lines) EXPECT_EQ(l.rfind("ecs/app/t1: line ", 0), 0u) << "no cut line: " << l;
  auto counters = shipper.counters("t1/app");
  EXPECT_GE(counters.dropped_bytes, all.size() - 100);
}

TEST_F(LogShipperTest, ABacklogFoundAfterARestartIsShippedNotDropped) {
  AwsLogsConfig config = config_;
  config.non_blocking = true;
  config.max_buffer_bytes = 100;
  {
    LogShipper shipper(destination_, 10ms, 0);
    shipper.watch("t1/app", file_, config);
    write("first\n");
    ASSERT_EQ(wait_lines(1).size(), 1u);
  }
  // Written while no daemon ran: far more than the buffer.
  for (int i = 0; i < 500; ++i) write("line " + std::to_string(i) + "\n");
  LogShipper again(destination_, 10ms, 0);
  again.watch("t1/app", file_, config);
  auto lines = wait_lines(501);
  ASSERT_EQ(lines.size(), 501u);
  EXPECT_EQ(lines.back(), "ecs/app/t1: line 499");
  EXPECT_EQ(again.counters("t1/app").dropped_bytes, 0u);
}

TEST_F(LogShipperTest, ADeletedGroupLosesTheLinesButShippingGoesOn) {
  AwsLogsConfig gone = config_;
  gone.group = "gone";
  LogShipper shipper(destination_, 10ms, 0);
  shipper.watch("t1/app", file_, gone);
  write("lost\n");
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (shipper.counters("t1/app").failed_batches == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(shipper.counters("t1/app").failed_batches, 1u) << "tried once, not again every round";
}

}  // namespace
}  // namespace berth::runtime
