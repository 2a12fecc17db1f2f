#include "runtime/logs.h"
#include "core/testing/expect_ok.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace berth::runtime {
namespace {

namespace fs = std::filesystem;

TEST(Logs, RotatedPartFirstContainersByNameTailBounded) {
  fs::path data = fs::temp_directory_path() / ("berth-logs-" + std::to_string(::getpid()));
  fs::path dir = data / "runtime" / "logs" / "t1";
  fs::create_directories(dir);
  std::ofstream(dir / "web.log.1") << "old\n";
  std::ofstream(dir / "web.log") << "new\n";
  std::ofstream(dir / "app.log") << "0123456789";
  auto logs = read_logs(data, "t1");
  ASSERT_OK(logs);
  ASSERT_EQ(logs->size(), 2u);
  EXPECT_EQ((*logs)[0].container, "app");
  EXPECT_EQ((*logs)[1].container, "web");
  EXPECT_EQ((*logs)[1].text, "old\nnew\n");
  auto tail = read_logs(data, "t1", 4);
  EXPECT_EQ((*tail)[0].text, "6789");
  EXPECT_EQ(read_logs(data, "t2").error().error_class, ErrorClass::kNotFound);
  EXPECT_EQ(read_logs(data, "../x").error().error_class, ErrorClass::kInvalid);
  fs::remove_all(data);
}

TEST(Logs, FollowerReadsWhatIsAppendedAcrossACopyTruncateRotation) {
  fs::path data = fs::temp_directory_path() / ("berth-follow-" + std::to_string(::getpid()));
  fs::path dir = data / "runtime" / "logs" / "t1";
  fs::create_directories(dir);
  std::ofstream(dir / "web.log") << "before\n";
  LogFollower from_end(data, "t1", "web", false), from_start(data, "t1", "web", true);
  EXPECT_EQ(from_end.read_new(), "");
  EXPECT_EQ(from_start.read_new(), "before\n");
  std::ofstream(dir / "web.log", std::ios::app) << "one\n";
  EXPECT_EQ(from_end.read_new(), "one\n");
  std::ofstream(dir / "web.log", std::ios::app) << "two\n";
  // The runtime's rotation: copy to .log.1, truncate; the container writes on.
  fs::copy_file(dir / "web.log", dir / "web.log.1", fs::copy_options::overwrite_existing);
  fs::resize_file(dir / "web.log", 0);
  std::ofstream(dir / "web.log", std::ios::app) << "3\n";
  EXPECT_EQ(from_end.read_new(), "two\n3\n");
  EXPECT_EQ(from_end.read_new(), "");
  LogFollower missing(data, "t1", "none", false);
  EXPECT_EQ(missing.read_new(), "");
  fs::remove_all(data);
}

}  // namespace
}  // namespace berth::runtime
