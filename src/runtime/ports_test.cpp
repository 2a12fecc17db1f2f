#include "runtime/ports.h"
#include "core/testing/expect_ok.h"

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

TEST(PortAllocator, StaticPortsOncePerAddress) {
  PortAllocator ports;
  EXPECT_EQ(*ports.allocate("127.0.0.2", 8080), 8080);
  auto again = ports.allocate("127.0.0.2", 8080);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().error_class, ErrorClass::kConflict);
  EXPECT_EQ(*ports.allocate("127.0.0.3", 8080), 8080);  // another instance, another port space
  ports.release("127.0.0.2", 8080);
  EXPECT_OK(ports.allocate("127.0.0.2", 8080));
}

TEST(PortAllocator, ReservedPortsRefused) {
  PortAllocator ports;
  for (uint16_t p : {22, 2375, 2376, 51678, 51679}) EXPECT_FALSE(ports.allocate("127.0.0.2", p).ok()) << p;
}

TEST(PortAllocator, DynamicRangeNextFitSkipsReservedAndUsed) {
  PortAllocator ports;
  EXPECT_EQ(*ports.allocate("a", 0), 49153);
  EXPECT_EQ(*ports.allocate("a", 0), 49154);
  ports.release("a", 49153);
  EXPECT_EQ(*ports.allocate("a", 0), 49155);  // next fit: a released port is not reused at once
  EXPECT_TRUE(ports.claim("a", 49156));
  EXPECT_FALSE(ports.claim("a", 49156));
  EXPECT_EQ(*ports.allocate("a", 0), 49157);
  EXPECT_EQ(*ports.allocate("a", 0), 49158);
  // 51678 and 51679 sit inside the dynamic range and are skipped.
  PortAllocator near(std::vector<uint16_t>{51678, 51679});
  for (uint16_t p = 49153; p < 51678; ++p) ASSERT_TRUE(near.claim("b", p));
  EXPECT_EQ(*near.allocate("b", 0), 51680);
}

TEST(PortAllocator, DynamicRangeExhausts) {
  PortAllocator ports(std::vector<uint16_t>{});
  for (uint32_t p = PortAllocator::kDynamicFirst; p <= PortAllocator::kDynamicLast; ++p)
    ASSERT_OK(ports.allocate("a", 0));
  auto none = ports.allocate("a", 0);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, "PortsExhausted");
  EXPECT_EQ(ports.used_count(), 16383u);
  ports.release("a", 60000);
  EXPECT_EQ(*ports.allocate("a", 0), 60000);
}

}  // namespace
}  // namespace berth::runtime
