#include "secrets/value_cipher.h"
#include "core/testing/expect_ok.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace berth::secrets {
namespace {

TEST(ValueCipher, SealsAndOpensBoundToItsPlace) {
  ValueCipher cipher(std::string(32, 'a'));
  auto sealed = cipher.seal("hunter2", "ssm\n/db/password\n1");
  ASSERT_OK(sealed);
  EXPECT_EQ(sealed->find("hunter2"), std::string::npos);
  EXPECT_EQ(sealed->size(), 1 + 12 + 7 + 16u);
  auto opened = cipher.open_sealed(*sealed, "ssm\n/db/password\n1");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, "hunter2");
  // Another place, another key, or a flipped bit: nothing opens.
  EXPECT_FALSE(cipher.open_sealed(*sealed, "ssm\n/db/password\n2").ok());
  EXPECT_FALSE(ValueCipher(std::string(32, 'b')).open_sealed(*sealed, "ssm\n/db/password\n1").ok());
  std::string tampered = *sealed;
  tampered[15] ^= 1;
  EXPECT_FALSE(cipher.open_sealed(tampered, "ssm\n/db/password\n1").ok());
  EXPECT_FALSE(cipher.open_sealed("short", "x").ok());
  // Fresh nonces: the same value seals differently each time.
  EXPECT_NE(*cipher.seal("hunter2", "a"), *cipher.seal("hunter2", "a"));
  auto empty = cipher.seal("", "a");
  ASSERT_OK(empty);
  EXPECT_EQ(*cipher.open_sealed(*empty, "a"), "");
}

TEST(ValueCipher, KeyFileIsCreatedPrivateAndReused) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("berth-cipher-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto first = ValueCipher::open(dir / "sub" / "values.key");
  ASSERT_TRUE(first.ok()) << first.error().message;
  struct stat st {};
  ASSERT_EQ(::stat((dir / "sub" / "values.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(std::filesystem::file_size(dir / "sub" / "values.key"), 32u);
  auto sealed = first->seal("v", "ctx");
  ASSERT_OK(sealed);
  auto second = ValueCipher::open(dir / "sub" / "values.key");
  ASSERT_OK(second);
  EXPECT_EQ(*second->open_sealed(*sealed, "ctx"), "v");
  std::filesystem::resize_file(dir / "sub" / "values.key", 5);
  EXPECT_FALSE(ValueCipher::open(dir / "sub" / "values.key").ok());
  std::filesystem::remove_all(dir);
}

TEST(ValueCipher, Base64) {
  EXPECT_EQ(base64_encode("any carnal pleas"), "YW55IGNhcm5hbCBwbGVhcw==");
  std::string out;
  ASSERT_TRUE(base64_decode("YW55IGNhcm5hbCBwbGVhcw==", out));
  EXPECT_EQ(out, "any carnal pleas");
  EXPECT_FALSE(base64_decode("abc", out));
  EXPECT_FALSE(base64_decode("a!c=", out));
}

}  // namespace
}  // namespace berth::secrets
