// LogStore against real SQLite (in memory) and a manual clock: the driver's
// interface (cursors committed with their events), AWS's batch rules,
// GetLogEvents' and FilterLogEvents' paging, retention, describe and tags.
#include "logs/log_store.h"

#include <unistd.h>

#include <filesystem>
#include <thread>

#include "logs/test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::logs {
namespace {

using testing::kDayMs;
using testing::kMinuteMs;
using testing::kNowMs;
using LogStoreTest = testing::StoreFixture;
using Strings = std::vector<std::string>;

TEST_F(LogStoreTest, CreateIfMissingIsIdempotentAndStreamsNeedTheirGroup) {
  ASSERT_OK(store->create_log_group_if_missing("/ecs/web"));
  ASSERT_TRUE(store->create_log_group_if_missing("/ecs/web").ok()) << "a second call is no error";
  auto missing = store->create_log_stream_if_missing("/ecs/other", "s");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().error_class, ErrorClass::kNotFound);
  EXPECT_EQ(missing.error().message, "The specified log group does not exist.");
  ASSERT_OK(store->create_log_stream_if_missing("/ecs/web", "web/app/1"));
  ASSERT_OK(store->create_log_stream_if_missing("/ecs/web", "web/app/1"));
  auto dup = store->create_log_group("/ecs/web", {});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "ResourceAlreadyExistsException");
  EXPECT_EQ(dup.error().message, "The specified log group already exists");
  auto bad = store->create_log_stream_if_missing("/ecs/web", "a:b");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "InvalidParameterException");
}

TEST_F(LogStoreTest, AppendRecordsTheCursorWithItsEvents) {
  make_stream("g", "s");
  auto none = store->read_cursor("task-1/web");
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  auto batch = events(3, kNowMs);
  ASSERT_OK(store->append_events("g", "s", batch, "task-1/web", "offset=120"));
  auto cursor = store->read_cursor("task-1/web");
  ASSERT_OK(cursor);
  EXPECT_EQ(cursor->value_or(""), "offset=120");

  // The stream is deleted meanwhile: nothing is written, the cursor stays.
  ASSERT_OK(store->delete_log_stream("g", "s"));
  auto gone = store->append_events("g", "s", batch, "task-1/web", "offset=240");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().error_class, ErrorClass::kNotFound);
  EXPECT_EQ(gone.error().message, "The specified log stream does not exist.");
  EXPECT_EQ(store->read_cursor("task-1/web")->value_or(""), "offset=120");
  ASSERT_OK(store->delete_log_group("g"));
  EXPECT_EQ(store->append_events("g", "s", batch, "task-1/web", "x").error().message,
            "The specified log group does not exist.");

  ASSERT_OK(store->forget_cursor("task-1/web"));
  EXPECT_FALSE(store->read_cursor("task-1/web")->has_value());
}

TEST_F(LogStoreTest, ConcurrentAppendersLoseNothing) {
  make_stream("g", "a");
  make_stream("g", "b");
  std::vector<std::thread> writers;
  for (std::string stream : {"a", "b"})
    writers.emplace_back([this, stream] {
      for (int batch = 0; batch < 20; ++batch) {
        auto s = store->append_events("g", stream, events(50, kNowMs + batch * 50, 1, stream), "src-" + stream,
                                      std::to_string(batch));
        EXPECT_TRUE(s.ok()) << s.error().message;
      }
    });
  for (auto& w : writers) w.join();
  auto all = store->filter_log_events(FilterQuery{.group = "g"}, *FilterPattern::parse(""));
  ASSERT_OK(all);
  EXPECT_EQ(all->events.size(), 2000u);
  EXPECT_EQ(store->read_cursor("src-a")->value_or(""), "19");
  EXPECT_EQ(store->read_cursor("src-b")->value_or(""), "19");
}

TEST(LogStoreFile, ReadsSeeWritesAndEverythingSurvivesReopening) {
  auto dir = std::filesystem::temp_directory_path() / ("logs_test." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "logs.db").string();
  ManualClock clock{WallTime(std::chrono::milliseconds(kNowMs))};
  LogStoreOptions options;
  options.account_id = "123456789012";
  options.clock = &clock;
  options.sweep_interval = std::chrono::milliseconds(0);
  {
    auto store = LogStore::open(path, options);
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_OK((*store)->create_log_group_if_missing("g"));
    ASSERT_OK((*store)->create_log_stream_if_missing("g", "s"));
    std::vector<InputEvent> batch = {{kNowMs, "one"}, {kNowMs + 1, "two"}};
    ASSERT_OK((*store)->append_events("g", "s", batch, "task/web", "line-2"));
    // Reads go through a second connection: it sees every committed write.
    EXPECT_EQ((*store)->read_cursor("task/web")->value_or(""), "line-2");
    EXPECT_EQ((*store)->log_group("g")->stored_bytes, 6);
  }
  {
    auto store = LogStore::open(path, options);
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ((*store)->read_cursor("task/web")->value_or(""), "line-2");
    GetEventsQuery q{.group = "g", .stream = "s", .start_from_head = true};
    auto page = (*store)->get_log_events(q);
    ASSERT_OK(page);
    EXPECT_EQ(page->events.size(), 2u);
  }
  std::filesystem::remove_all(dir);
}

TEST_F(LogStoreTest, BatchRules) {
  make_stream("g", "s");
  std::vector<InputEvent> out_of_order = {{kNowMs, "b"}, {kNowMs - 1, "a"}};
  auto r = store->put_log_events("g", "s", out_of_order);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidParameterException");
  EXPECT_EQ(r.error().message, "Log events in a single PutLogEvents request must be in chronological order.");

  std::vector<InputEvent> too_many = events(10'001, kNowMs, 0);
  EXPECT_FALSE(store->put_log_events("g", "s", too_many).ok());
  EXPECT_TRUE(store->put_log_events("g", "s", std::span(too_many).first(10'000)).ok()) << "10,000 is allowed";

  // 1,048,576 bytes counting 26 per event: 4 events of 262,118 bytes fit exactly, one byte more does not.
  std::vector<InputEvent> big(4, InputEvent{kNowMs, std::string(262'144 - 26, 'x')});
  EXPECT_OK(store->put_log_events("g", "s", big));
  big[3].message.push_back('x');
  auto too_big = store->put_log_events("g", "s", big);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().message, "Upload too large: 1048577 bytes exceeds limit of 1048576");

  std::vector<InputEvent> span = {{kNowMs - kDayMs - 1, "a"}, {kNowMs, "b"}};
  EXPECT_FALSE(store->put_log_events("g", "s", span).ok()) << "a batch spans at most 24 hours";
}

TEST_F(LogStoreTest, TooOldTooNewAndExpiredAreReportedAndLeftOut) {
  make_stream("g", "s");
  // Events older than 14 days (a batch of their own: a batch spans at most 24 h).
  std::vector<InputEvent> old = {{kNowMs - 15 * kDayMs, "old1"}, {kNowMs - 15 * kDayMs + 1, "old2"}};
  auto r = store->put_log_events("g", "s", old);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->rejected.too_old_end, 1);
  EXPECT_FALSE(r->rejected.too_new_start);

  std::vector<InputEvent> mixed = {{kNowMs - kMinuteMs, "ok1"}, {kNowMs, "ok2"}, {kNowMs + 3 * 3600 * 1000, "new"}};
  r = store->put_log_events("g", "s", mixed);
  ASSERT_OK(r);
  EXPECT_EQ(r->rejected.too_new_start, 2);
  EXPECT_FALSE(r->rejected.too_old_end);

  ASSERT_OK(store->put_retention_policy("g", 1));
  std::vector<InputEvent> expired = {
      {kNowMs - 2 * kDayMs, "exp"}, {kNowMs - 2 * kDayMs + 1, "exp2"}, {kNowMs - 2 * kDayMs + 2 * 3600 * 1000, "exp3"}};
  r = store->put_log_events("g", "s", expired);
  ASSERT_OK(r);
  EXPECT_EQ(r->rejected.expired_end, 2);

  GetEventsQuery q{.group = "g", .stream = "s"};
  q.start_from_head = true;
  auto page = store->get_log_events(q);
  ASSERT_OK(page);
  EXPECT_EQ(messages(page->events), (Strings{"ok1", "ok2"})) << "rejected events are not stored";
}

TEST_F(LogStoreTest, GetLogEventsPagesBothWaysAndGivesTheSameTokenAtTheEnd) {
  make_stream("g", "s");
  ASSERT_OK(store->put_log_events("g", "s", events(10, kNowMs - 100)));

  // Without a token and not from the head: the newest `limit`.
  GetEventsQuery tail{.group = "g", .stream = "s"};
  tail.limit = 3;
  auto last = store->get_log_events(tail);
  ASSERT_OK(last);
  EXPECT_EQ(messages(last->events), (Strings{"m7", "m8", "m9"}));

  // Backward from there.
  GetEventsQuery back = tail;
  back.backward = last->backward;
  auto earlier = store->get_log_events(back);
  EXPECT_EQ(messages(earlier->events), (Strings{"m4", "m5", "m6"}));

  // Forward at the end: nothing, and the same forward position.
  GetEventsQuery fwd = tail;
  fwd.forward = last->forward;
  auto end = store->get_log_events(fwd);
  EXPECT_TRUE(end->events.empty());
  EXPECT_EQ(end->forward, last->forward);

  // A new event shows up on the same forward token.
  ASSERT_OK(store->put_log_events("g", "s", events(1, kNowMs, 1, "late")));
  auto later = store->get_log_events(fwd);
  EXPECT_EQ(messages(later->events), (Strings{"late0"}));

  // From the head, forward pages of 4 cover everything once.
  GetEventsQuery head{.group = "g", .stream = "s"};
  head.start_from_head = true;
  head.limit = 4;
  Strings all;
  for (int i = 0; i < 10; ++i) {
    auto p = store->get_log_events(head);
    ASSERT_OK(p);
    for (auto& m : messages(p->events)) all.push_back(m);
    if (p->events.empty()) {
      EXPECT_EQ(p->forward, *head.forward);
      break;
    }
    head.forward = p->forward;
  }
  EXPECT_EQ(all, (Strings{"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "late0"}));

  // Backward at the beginning: nothing, and the same backward position.
  GetEventsQuery first{.group = "g", .stream = "s"};
  first.start_from_head = true;
  first.limit = 2;
  auto p = store->get_log_events(first);
  GetEventsQuery before{.group = "g", .stream = "s"};
  before.backward = p->backward;
  auto none = store->get_log_events(before);
  EXPECT_TRUE(none->events.empty());
  EXPECT_EQ(none->backward, p->backward);

  // startTime inclusive, endTime exclusive.
  GetEventsQuery window{.group = "g", .stream = "s"};
  window.start_ms = kNowMs - 98;
  window.end_ms = kNowMs - 95;
  EXPECT_EQ(messages(store->get_log_events(window)->events), (Strings{"m2", "m3", "m4"}));

  GetEventsQuery missing{.group = "g", .stream = "nope"};
  EXPECT_EQ(store->get_log_events(missing).error().message, "The specified log stream does not exist.");
}

TEST_F(LogStoreTest, FilterLogEventsInterleavesStreamsAndPages) {
  make_stream("g", "a");
  make_stream("g", "b");
  ASSERT_OK(store->put_log_events("g", "a", events(5, kNowMs, 2, "a")));      // even ms
  ASSERT_OK(store->put_log_events("g", "b", events(5, kNowMs + 1, 2, "b")));  // odd ms
  auto everything = *FilterPattern::parse("");
  FilterQuery q{.group = "g"};
  auto page = store->filter_log_events(q, everything);
  ASSERT_OK(page);
  EXPECT_EQ(messages(page->events), (Strings{"a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4"}));
  EXPECT_EQ(page->events[1].stream, "b");
  EXPECT_FALSE(page->next);
  EXPECT_EQ(page->searched_streams, (Strings{"a", "b"}));

  // Pages of 3 with the pattern "?a1 ?b ?a4": b0 a1 b1 | b2 b3 a4 | b4.
  auto pattern = *FilterPattern::parse("?a1 ?b ?a4");
  q.limit = 3;
  Strings seen;
  int pages = 0;
  for (; pages < 10; ++pages) {
    auto p = store->filter_log_events(q, pattern);
    ASSERT_OK(p);
    for (auto& m : messages(p->events)) seen.push_back(m);
    if (!p->next) break;
    q.after = p->next;
  }
  EXPECT_EQ(seen, (Strings{"b0", "a1", "b1", "b2", "b3", "a4", "b4"}));
  EXPECT_EQ(pages, 2) << "three pages, the last without a next token";

  FilterQuery only_a{.group = "g"};
  only_a.stream_names = {"a"};
  only_a.start_ms = kNowMs + 2;
  only_a.end_ms = kNowMs + 6;  // inclusive
  EXPECT_EQ(messages(store->filter_log_events(only_a, everything)->events), (Strings{"a1", "a2", "a3"}));
  FilterQuery prefix_b{.group = "g"};
  prefix_b.stream_prefix = "b";
  EXPECT_EQ(store->filter_log_events(prefix_b, everything)->events.size(), 5u);
  EXPECT_EQ(store->filter_log_events(FilterQuery{.group = "nope"}, everything).error().code,
            "ResourceNotFoundException");
}

TEST_F(LogStoreTest, RetentionHidesThenRemovesOldEvents) {
  make_stream("g", "s");
  ASSERT_OK(store->put_log_events("g", "s", events(3, kNowMs - 2 * kDayMs, 1, "old")));
  ASSERT_OK(store->put_log_events("g", "s", events(2, kNowMs, 1, "new")));
  int64_t bytes_before = store->log_group("g")->stored_bytes;
  EXPECT_EQ(bytes_before, 3 * 4 + 2 * 4);
  ASSERT_OK(store->put_retention_policy("g", 1));
  EXPECT_EQ(store->log_group("g")->retention_days, 1);
  EXPECT_EQ(store->log_group("g")->stored_bytes, 2 * 4) << "the old events were swept at once";
  GetEventsQuery head{.group = "g", .stream = "s"};
  head.start_from_head = true;
  EXPECT_EQ(messages(store->get_log_events(head)->events), (Strings{"new0", "new1"}));

  // A day and a bit later the new ones are past the retention too: reads
  // stop returning them before the sweep, the sweep deletes them.
  clock.advance(std::chrono::hours(25));
  EXPECT_TRUE(store->get_log_events(head)->events.empty());
  EXPECT_TRUE(store->filter_log_events(FilterQuery{.group = "g"}, *FilterPattern::parse(""))->events.empty());
  auto swept = store->sweep_expired();
  ASSERT_OK(swept);
  EXPECT_EQ(*swept, 2);
  EXPECT_EQ(store->log_group("g")->stored_bytes, 0);

  ASSERT_OK(store->put_retention_policy("g", std::nullopt));
  EXPECT_FALSE(store->log_group("g")->retention_days);
}

TEST_F(LogStoreTest, DescribeGroupsAndStreams) {
  for (auto name : {"/ecs/b", "/ecs/a", "/other", "/ecs/c"}) ASSERT_OK(store->create_log_group(name, {}));
  GroupQuery q;
  q.name_prefix = "/ecs/";
  q.limit = 2;
  auto page = store->describe_log_groups(q);
  ASSERT_OK(page);
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].name, "/ecs/a");
  EXPECT_TRUE(page->more);
  q.after = page->items.back().name;
  page = store->describe_log_groups(q);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].name, "/ecs/c");
  EXPECT_FALSE(page->more);
  GroupQuery pattern;
  pattern.name_pattern = "OTH";
  EXPECT_EQ(store->describe_log_groups(pattern)->items.size(), 1u) << "the pattern is case-insensitive";

  for (auto s : {"s1", "s2", "s3"}) ASSERT_OK(store->create_log_stream("/ecs/a", s));
  ASSERT_OK(store->put_log_events("/ecs/a", "s1", events(1, kNowMs)));
  ASSERT_OK(store->put_log_events("/ecs/a", "s3", events(1, kNowMs - 5)));
  StreamQuery sq{.group = "/ecs/a"};
  sq.order_by_last_event = true;
  sq.descending = true;
  auto streams = store->describe_log_streams(sq);
  ASSERT_OK(streams);
  ASSERT_EQ(streams->items.size(), 3u);
  EXPECT_EQ(streams->items[0].name, "s1");
  EXPECT_EQ(streams->items[1].name, "s3");
  EXPECT_EQ(streams->items[0].last_event_ms, kNowMs);
  EXPECT_EQ(streams->items[0].first_event_ms, kNowMs);
  EXPECT_EQ(streams->items[0].last_ingestion_ms, kNowMs);
  EXPECT_EQ(streams->items[0].upload_sequence, 1);
  StreamQuery paged{.group = "/ecs/a"};
  paged.limit = 2;
  auto p1 = store->describe_log_streams(paged);
  EXPECT_TRUE(p1->more);
  paged.after = std::make_pair(int64_t{0}, p1->items.back().name);
  auto p2 = store->describe_log_streams(paged);
  ASSERT_EQ(p2->items.size(), 1u);
  EXPECT_EQ(p2->items[0].name, "s3");
  EXPECT_FALSE(p2->more);
}

TEST_F(LogStoreTest, TagsMergeAndRemove) {
  CreateGroupOptions options;
  options.tags = {{"team", "web"}};
  ASSERT_OK(store->create_log_group("g", options));
  ASSERT_OK(store->tag("g", {{"env", "dev"}, {"team", "ops"}}));
  EXPECT_EQ(*store->tags("g"), (Tags{{"env", "dev"}, {"team", "ops"}}));
  ASSERT_OK(store->untag("g", {"team", "absent"}));
  EXPECT_EQ(*store->tags("g"), (Tags{{"env", "dev"}}));
  EXPECT_EQ(store->tags("h").error().code, "ResourceNotFoundException");
}

TEST_F(LogStoreTest, ArnsOfThisAccountAndRegionOnly) {
  EXPECT_EQ(store->group_arn("/ecs/web"), "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web");
  EXPECT_EQ(store->group_from_arn("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*"), "/ecs/web");
  EXPECT_EQ(store->group_from_arn("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web"), "/ecs/web");
  EXPECT_FALSE(store->group_from_arn("arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/web"));
}

}  // namespace
}  // namespace berth::logs
