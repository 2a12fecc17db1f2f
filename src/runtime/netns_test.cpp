#include "runtime/netns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "core/testing/expect_ok.h"

namespace berth::runtime {
namespace {

// Waits (at most 10 s) until the pool holds `n` spares.
bool wait_ready(NetnsPool& pool, size_t n) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pool.ready() != n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

ino_t namespace_inode(const std::string& name) {
  struct stat st{};
  return ::stat(netns_path(name).c_str(), &st) == 0 ? st.st_ino : 0;
}

// A TCP connection to itself on 127.0.0.1 inside the namespace: lo is up.
bool loopback_works(const std::string& name) {
  int ns = open_netns(name);
  if (ns < 0) return false;
  int listener = socket_in_netns(ns, AF_INET, SOCK_STREAM);
  int client = socket_in_netns(ns, AF_INET, SOCK_STREAM);
  ::close(ns);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool ok = listener >= 0 && client >= 0 && ::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
            ::listen(listener, 1) == 0 && ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
            ::connect(client, reinterpret_cast<sockaddr*>(&addr), len) == 0;
  ::close(listener);
  ::close(client);
  return ok;
}

class NetnsPoolTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* name : {"berth-pooltest-a", "berth-pooltest-b", "berth-pooltest-c"}) (void)delete_netns(name);
  }
};

TEST_F(NetnsPoolTest, NamesASpareAndMakesTheNext) {
  NetnsPool pool(1);
  ASSERT_TRUE(wait_ready(pool, 1)) << "no spare made within 10 s";
  ASSERT_OK(pool.create("berth-pooltest-a"));
  EXPECT_TRUE(netns_exists("berth-pooltest-a"));
  EXPECT_TRUE(loopback_works("berth-pooltest-a")) << "lo is not up in a namespace from the pool";
  ASSERT_TRUE(wait_ready(pool, 1)) << "the pool did not make the next spare";
  ASSERT_OK(pool.create("berth-pooltest-b"));
  EXPECT_TRUE(loopback_works("berth-pooltest-b"));
  EXPECT_NE(namespace_inode("berth-pooltest-a"), namespace_inode("berth-pooltest-b"))
      << "two tasks were given the same namespace";
  EXPECT_NE(namespace_inode("berth-pooltest-a"), 0u);
}

TEST_F(NetnsPoolTest, ATakenNameKeepsTheSpare) {
  NetnsPool pool(1);
  ASSERT_OK(pool.create("berth-pooltest-a"));
  ASSERT_TRUE(wait_ready(pool, 1));
  auto again = pool.create("berth-pooltest-a");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().error_class, ErrorClass::kAlreadyExists) << again.error().message;
  EXPECT_EQ(pool.ready(), 1u) << "a refused name used up the spare";
  ASSERT_OK(delete_netns("berth-pooltest-a"));
  EXPECT_FALSE(netns_exists("berth-pooltest-a"));
}

TEST_F(NetnsPoolTest, AnEmptyPoolStillCreates) {
  NetnsPool pool(0);
  ASSERT_OK(pool.create("berth-pooltest-c"));
  EXPECT_TRUE(loopback_works("berth-pooltest-c"));
  EXPECT_EQ(pool.ready(), 0u);
}

}  // namespace
}  // namespace berth::runtime
