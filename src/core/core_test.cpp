#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <set>

#include "core/clock.h"
#include "core/duration.h"
#include "core/durable_file.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/time_format.h"
#include "core/utf8.h"
#include "core/testing/expect_ok.h"

using namespace std::chrono_literals;

namespace berth {
namespace {

class DurableFileTest : public ::testing::Test {
 protected:
  DurableFileTest() {
    dir_ = std::filesystem::temp_directory_path() / ("berth-durable-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  ~DurableFileTest() override { std::filesystem::remove_all(dir_); }
  std::string read(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  size_t entries() {
    return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir_), {}));
  }
  std::filesystem::path dir_;
};

TEST_F(DurableFileTest, WritesReplacesAndLeavesNoTemp) {
  std::string path = (dir_ / "task.json").string();
  ASSERT_TRUE(write_file_durably(path, "{\"v\":1}").ok());
  EXPECT_EQ(read(path), "{\"v\":1}");
  auto s = write_file_durably(path, "{\"v\":2}", 0640);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(read(path), "{\"v\":2}");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(entries(), 1u) << "a temp file was left behind";
}

TEST_F(DurableFileTest, KeepNeverReplaces) {
  std::string path = (dir_ / "key").string();
  ASSERT_TRUE(write_file_durably(path, "first", 0600, IfExists::kKeep).ok());
  auto again = write_file_durably(path, "second", 0600, IfExists::kKeep);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().error_class, ErrorClass::kAlreadyExists);
  EXPECT_EQ(read(path), "first");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(DurableFileTest, FailuresAreReportedWithTheirCause) {
  // No such directory.
  auto missing = write_file_durably((dir_ / "gone" / "task.json").string(), "x");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("gone/task.json"), std::string::npos) << missing.error().message;
  EXPECT_NE(missing.error().message.find("No such file or directory"), std::string::npos) << missing.error().message;
  // The name is a non-empty directory: the rename fails, nothing is left.
  std::filesystem::create_directories(dir_ / "busy" / "inside");
  auto busy = write_file_durably((dir_ / "busy").string(), "x");
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.error().message.find("cannot rename to"), std::string::npos) << busy.error().message;
  EXPECT_EQ(entries(), 1u) << "a temp file was left behind";
}

TEST_F(DurableFileTest, AtomicallyThenSyncedInTwoSteps) {
  std::string path = (dir_ / "task.json").string();
  ASSERT_TRUE(write_file_atomically(path, "{\"v\":1}").ok());
  auto s = write_file_atomically(path, "{\"v\":2}", 0640);
  ASSERT_TRUE(s.ok()) << s.error().message;
  // Readers see the whole new file at once, before any sync.
  EXPECT_EQ(read(path), "{\"v\":2}");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(entries(), 1u) << "a temp file was left behind";
  auto synced = sync_file(path);
  EXPECT_TRUE(synced.ok()) << synced.error().message;
  EXPECT_EQ(read(path), "{\"v\":2}");
  // A file that is not there cannot be made durable: said, with its name.
  auto gone = sync_file((dir_ / "gone.json").string());
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().message.find("gone.json"), std::string::npos) << gone.error().message;
}

TEST(GoDuration, ParsesGoSyntax) {
  EXPECT_EQ(parse_go_duration("5s"), std::chrono::nanoseconds(5s));
  EXPECT_EQ(parse_go_duration("300ms"), std::chrono::nanoseconds(300ms));
  EXPECT_EQ(parse_go_duration("1.5h"), std::chrono::nanoseconds(90min));
  EXPECT_EQ(parse_go_duration("2h45m"), std::chrono::nanoseconds(165min));
  EXPECT_EQ(parse_go_duration("1m30.5s"), std::chrono::nanoseconds(90500ms));
  EXPECT_EQ(parse_go_duration("0"), std::chrono::nanoseconds(0));
  EXPECT_EQ(parse_go_duration("-1s"), std::chrono::nanoseconds(-1s));
  EXPECT_EQ(parse_go_duration("10us"), std::chrono::nanoseconds(10us));
}

TEST(GoDuration, RejectsWhatGoRejects) {
  for (const char* bad : {"", "5", "s", "5x", "1.s.", "-", ".s", "5 s", "1e3s", "9999999999999h"})
    EXPECT_FALSE(parse_go_duration(bad).has_value()) << bad;
}

TEST(Ids, ShapesMatchAws) {
  EXPECT_EQ(ids::account_id().size(), 12u);
  EXPECT_NE(ids::account_id()[0], '0');
  std::string u = ids::uuid4();
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  EXPECT_EQ(ids::prefixed("sg-").size(), 20u);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(ids::random_hex(17));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(TimeFormat, AmzDateRoundTrips) {
  auto t = std::chrono::system_clock::from_time_t(1764077915);
  EXPECT_EQ(format_amz_date(t), "20251125T133835Z");
  EXPECT_EQ(parse_amz_date("20251125T133835Z"), t);
  EXPECT_EQ(format_iso8601_millis(t + 123ms), "2025-11-25T13:38:35.123Z");
  EXPECT_EQ(format_http_date(t), "Tue, 25 Nov 2025 13:38:35 GMT");
  EXPECT_FALSE(parse_amz_date("2025-11-25T13:38:35Z"));
  EXPECT_FALSE(parse_amz_date("20251325T133835Z"));
}

// Found by fuzz/sigv4 (X-Amz-Date year 5202): system_clock holds only
// 1678..2261, beyond that the conversion overflowed (UB). Such dates now
// saturate, still later (or earlier) than any time window around now.
TEST(TimeFormat, AmzDateOutsideTheClockRangeSaturates) {
  auto now = std::chrono::system_clock::from_time_t(1764077915);
  auto far_future = parse_amz_date("52021205T020000Z");
  ASSERT_TRUE(far_future);
  EXPECT_GT(*far_future, now + std::chrono::hours(24 * 365 * 200)) << "a year 5202 date must stay far in the future";
  EXPECT_GT(*far_future + std::chrono::hours(24 * 7), *far_future) << "a week later must not wrap around";
  EXPECT_EQ(parse_amz_date("99991231T235959Z"), far_future) << "both saturate to the same latest time";
  auto far_past = parse_amz_date("00010101T000000Z");
  ASSERT_TRUE(far_past);
  EXPECT_LT(*far_past, now - std::chrono::hours(24 * 365 * 200)) << "a year 1 date must stay far in the past";
  EXPECT_LT(*far_past - std::chrono::hours(24 * 7), *far_past) << "a week earlier must not wrap around";
  EXPECT_EQ(format_amz_date(*parse_amz_date("22600101T000000Z")), "22600101T000000Z") << "2260 still fits exactly";
}

TEST(ManualClock, MovesOnlyByHand) {
  ManualClock clock(std::chrono::system_clock::from_time_t(1000));
  auto before = clock.now();
  clock.advance(5s);
  EXPECT_EQ(clock.now() - before, std::chrono::nanoseconds(5s));
}

TEST(Result, CarriesValueOrError) {
  Result<int> good = 7;
  Result<int> bad = Error::not_found("X.NotFound", "gone");
  EXPECT_OK(good);
  EXPECT_EQ(*good, 7);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "X.NotFound");
  EXPECT_EQ(bad.error().error_class, ErrorClass::kNotFound);
}

TEST(Utf8, WellFormedPassesAndEachBadByteBecomesOneReplacement) {
  EXPECT_TRUE(utf8::is_valid("plain \xC3\xA9t\xC3\xA9 \xF0\x9F\x99\x82"));
  for (std::string_view bad : {"\xC3\x28", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "\xE2\x82"})
    EXPECT_FALSE(utf8::is_valid(bad)) << bad;
  EXPECT_EQ(utf8::to_valid("a\xFF\xFE" "b"), "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
  EXPECT_EQ(utf8::to_valid("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // cut short: each byte replaced
  EXPECT_EQ(utf8::to_valid("\xC3\xA9"), "\xC3\xA9");
}

}  // namespace
}  // namespace berth
