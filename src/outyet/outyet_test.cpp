#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <atomic>
#include <thread>

#include "net/http_client.h"
#include "net/test_support.h"
#include "outyet/outyet_server.h"

namespace berth::outyet {
namespace {

using namespace std::chrono_literals;

TEST(Flags, DefaultsMatchTheGoOriginal) {
  auto p = parse_flags("outyet", {});
  ASSERT_TRUE(p.flags);
  EXPECT_EQ(p.flags->http, ":8080");
  EXPECT_EQ(p.flags->poll, std::chrono::nanoseconds(5s));
  EXPECT_EQ(p.flags->version, "1.4");
  EXPECT_EQ(p.flags->change_url_base, "https://go.googlesource.com/go/+/");
}

TEST(Flags, AcceptsGoSpellings) {
  auto p = parse_flags("outyet", {"-http=127.0.0.1:9", "--poll", "250ms", "-version", "1.21", "-change-url-base=http://x/"});
  ASSERT_TRUE(p.flags) << p.output;
  EXPECT_EQ(p.flags->http, "127.0.0.1:9");
  EXPECT_EQ(p.flags->poll, std::chrono::nanoseconds(250ms));
  EXPECT_EQ(p.flags->version, "1.21");
  EXPECT_EQ(p.flags->change_url_base, "http://x/");
}

TEST(Flags, BadFlagsExit2WithUsage) {
  auto unknown = parse_flags("outyet", {"-nope"});
  EXPECT_FALSE(unknown.flags);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.output.rfind("flag provided but not defined: -nope\nUsage of outyet:\n", 0), 0u);
  auto bad_duration = parse_flags("outyet", {"-poll=5"});
  EXPECT_EQ(bad_duration.exit_code, 2);
  EXPECT_NE(bad_duration.output.find("invalid value \"5\" for flag -poll: parse error"), std::string::npos);
  auto missing = parse_flags("outyet", {"-version"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("flag needs an argument: -version"), std::string::npos);
  auto help = parse_flags("outyet", {"-h"});
  EXPECT_FALSE(help.flags);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("-poll duration"), std::string::npos);
}

TEST(Page, IsTheGoTemplateByteForByte) {
  EXPECT_EQ(render_page("1.4", "https://go.googlesource.com/go/+/go1.4", false),
            "\n<!DOCTYPE html><html><body><center>\n\t<h2>Is Go 1.4 out yet?</h2>\n\t<h1>\n\t\n"
            "\t\tNo. :-(\n\t\n\t</h1>\n</center></body></html>\n");
  EXPECT_EQ(render_page("1.4", "https://go.googlesource.com/go/+/go1.4", true),
            "\n<!DOCTYPE html><html><body><center>\n\t<h2>Is Go 1.4 out yet?</h2>\n\t<h1>\n\t\n"
            "\t\t<a href=\"https://go.googlesource.com/go/+/go1.4\">YES!</a>\n\t\n\t</h1>\n</center></body></html>\n");
}

TEST(Page, EscapesLikeHtmlTemplate) {
  std::string page = render_page("<b>&\"'", "javascript:alert(1)", true);
  EXPECT_NE(page.find("Is Go &lt;b&gt;&amp;&#34;&#39; out yet?"), std::string::npos);
  EXPECT_NE(page.find("href=\"#ZgotmplZ\""), std::string::npos);
  EXPECT_NE(render_page("1", "http://h/a b\"<&", true).find("href=\"http://h/a%20b%22%3C&amp;\""), std::string::npos);
}

TEST(ListenAddress, ParsesGoForms) {
  EXPECT_EQ(parse_listen_address(":8080")->host, "0.0.0.0");
  EXPECT_EQ(parse_listen_address(":8080")->port, 8080);
  EXPECT_EQ(parse_listen_address("127.0.0.2:80")->host, "127.0.0.2");
  EXPECT_EQ(parse_listen_address("[::1]:0")->host, "::1");
  EXPECT_EQ(parse_listen_address("localhost:1")->host, "127.0.0.1");
  EXPECT_FALSE(parse_listen_address("8080").ok());
  EXPECT_FALSE(parse_listen_address(":99999").ok());
  EXPECT_FALSE(parse_listen_address("not-an-ip:80").ok());
}

// A fake go.googlesource.com: 404 until tagged, then 200; counts HEADs.
struct FakeTagServer {
  std::atomic<bool> tagged{false};
  std::atomic<int> heads{0};
  std::string last_path;
  net::testing::TestServer server{[this](net::Request& r) -> net::Task<net::Response> {
    if (r.method() == net::http::verb::head) ++heads;
    last_path = std::string(r.path());
    co_return net::Response(tagged ? net::http::status::ok : net::http::status::not_found, "");
  }};
};

struct OutyetHarness {
  explicit OutyetHarness(Flags flags) : loops(2), app(flags, {"outyet", "-poll=50ms"}, loops) {
    auto ep = app.start();
    if (!ep) throw std::runtime_error(ep.error().message);
    port = ep->port();
    loops.start();
  }
  ~OutyetHarness() {
    net::testing::run_on(loops.at(1), [this]() -> net::Task<int> {
      co_await app.stop(1s);
      co_return 0;
    }());
    loops.stop();
    loops.join();
  }
  std::string get(const std::string& path) {
    boost::asio::io_context io;
    net::HttpClient client(io.get_executor());
    std::string body;
    boost::asio::co_spawn(io, [&]() -> net::Task<void> {
      auto r = co_await client.get("http://127.0.0.1:" + std::to_string(port) + path);
      body = r ? r->body : "error: " + r.error().message;
    }, boost::asio::detached);
    io.run();
    return body;
  }
  net::EventLoops loops;
  OutyetServer app;
  uint16_t port = 0;
};

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 3s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

TEST(OutyetServer, SaysNoThenYesAndStopsPolling) {
  FakeTagServer tags;
  Flags flags;
  flags.http = "127.0.0.1:0";
  flags.poll = 50ms;
  flags.version = "1.99";
  flags.change_url_base = "http://127.0.0.1:" + std::to_string(tags.server.port()) + "/go/+/";
  OutyetHarness h(flags);
  ASSERT_TRUE(eventually([&] { return tags.heads >= 3; }));
  EXPECT_EQ(tags.last_path, "/go/+/go1.99");
  EXPECT_NE(h.get("/").find("No. :-("), std::string::npos);
  tags.tagged = true;
  ASSERT_TRUE(eventually([&] { return h.app.yes(); }));
  EXPECT_NE(h.get("/anything").find("<a href=\"" + h.app.change_url() + "\">YES!</a>"), std::string::npos);
  int heads_at_yes = tags.heads;
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(tags.heads, heads_at_yes);  // no polling after YES
}

TEST(OutyetServer, CountsHitsPollsAndErrors) {
  uint16_t dead_port;
  { net::testing::TestServer gone([](net::Request&) -> net::Task<net::Response> { co_return net::Response(); });
    dead_port = gone.port(); }
  Flags flags;
  flags.http = "127.0.0.1:0";
  flags.poll = 50ms;
  flags.change_url_base = "http://127.0.0.1:" + std::to_string(dead_port) + "/";
  OutyetHarness h(flags);
  ASSERT_TRUE(eventually([&] {
    auto vars = boost::json::parse(h.get("/debug/vars")).as_object();
    return vars.at("pollErrorCount").as_int64() >= 2;
  }));
  h.get("/");
  h.get("/x");
  auto vars = boost::json::parse(h.get("/debug/vars")).as_object();
  for (const char* key : {"cmdline", "hitCount", "memstats", "pollCount", "pollError", "pollErrorCount"})
    EXPECT_TRUE(vars.contains(key)) << key;
  EXPECT_EQ(vars.at("hitCount").as_int64(), 2);
  EXPECT_GE(vars.at("pollCount").as_int64(), vars.at("pollErrorCount").as_int64());
  EXPECT_NE(std::string(vars.at("pollError").as_string()).find("cannot connect"), std::string::npos);
  EXPECT_EQ(vars.at("cmdline").as_array().at(0).as_string(), "outyet");
  EXPECT_GT(vars.at("memstats").as_object().at("RSS").as_int64(), 0);
}

}  // namespace
}  // namespace berth::outyet
