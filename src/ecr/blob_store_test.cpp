#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "ecr/blob_store.h"
#include "ecr/digest.h"
#include "ecr/names.h"
#include "ecr/test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::ecr {
namespace {

TEST(Digest, KnownVectorsAndSyntax) {
  EXPECT_EQ(sha256_digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_digest("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(is_sha256_digest(sha256_digest("x")));
  EXPECT_FALSE(is_sha256_digest("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
  EXPECT_FALSE(is_sha256_digest("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  EXPECT_FALSE(is_sha256_digest("sha256:../../etc/passwd"));
  Sha256 h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.finish(), sha256_digest("abc"));
}

TEST(Names, RepositoryNamesFollowEcr) {
  for (auto ok : {"ab", "outyet-image", "team/app", "a.b_c__d--e/f0", "x1"}) EXPECT_TRUE(is_valid_repository_name(ok)) << ok;
  for (auto bad : {"a", "Upper", "a..b", "../x", "a/../b", "a//b", "/ab", "ab/", "-ab", "a_-b", "a___b", "a b"}) {
    EXPECT_FALSE(is_valid_repository_name(bad)) << bad;
  }
  EXPECT_FALSE(is_valid_repository_name(std::string(257, 'a')));
  EXPECT_TRUE(is_valid_tag("latest"));
  EXPECT_TRUE(is_valid_tag("v1.2-rc_3"));
  EXPECT_FALSE(is_valid_tag(".hidden"));
  EXPECT_FALSE(is_valid_tag("a/b"));
  EXPECT_FALSE(is_valid_tag(std::string(129, 'a')));
}

class BlobStoreTest : public ::testing::Test {
 protected:
  std::filesystem::path dir_ = testing::make_temp_dir();
  BlobStore store_ = std::move(BlobStore::open(dir_).value());
  ~BlobStoreTest() override { std::filesystem::remove_all(dir_); }
  size_t temp_files() {
    size_t n = 0;
    for (auto& e : std::filesystem::directory_iterator(dir_ / "blobs" / "tmp")) n += e.is_regular_file();
    return n;
  }
};

TEST_F(BlobStoreTest, WritesUnderItsDigestAndReadsBack) {
  std::string data(3'000'000, 'z');
  auto w = store_.begin_write();
  ASSERT_OK(w);
  for (size_t i = 0; i < data.size(); i += 100'000) ASSERT_OK(w->append(data.data() + i, 100'000));
  std::string expected = sha256_digest(data);
  auto d = w->commit(expected);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, expected);
  std::string hex(digest_hex(expected));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "blobs" / "sha256" / hex.substr(0, 2) / hex));
  EXPECT_EQ(store_.size_of(expected), data.size());
  EXPECT_EQ(store_.read_all(expected, 1 << 30).value(), data);
  EXPECT_EQ(temp_files(), 0u);
}

TEST_F(BlobStoreTest, WrongDigestStoresNothing) {
  auto w = store_.begin_write();
  ASSERT_OK(w->append("hello", 5));
  std::string claimed = sha256_digest("hullo");
  auto d = w->commit(claimed);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "DIGEST_INVALID");
  EXPECT_FALSE(store_.size_of(claimed));
  EXPECT_FALSE(store_.size_of(sha256_digest("hello")));
  EXPECT_EQ(temp_files(), 0u);
}

TEST_F(BlobStoreTest, AbandonedWriteLeavesNoBlobAndReopenClearsTemp) {
  {
    auto w = store_.begin_write();
    ASSERT_OK(w->append("partial", 7));
    EXPECT_EQ(temp_files(), 1u);
    // A crash here: simulate by leaking the temp file past the writer.
    int fd = ::open((dir_ / "blobs" / "tmp" / "crashed").c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    ::close(fd);
  }
  EXPECT_FALSE(store_.size_of(sha256_digest("partial")));
  EXPECT_EQ(temp_files(), 1u);  // the "crashed" one
  auto reopened = BlobStore::open(dir_);
  ASSERT_OK(reopened);
  EXPECT_EQ(temp_files(), 0u);
}

TEST_F(BlobStoreTest, ConcurrentIdenticalUploadsAgree) {
  std::string data(2'000'000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7919 % 251);
  std::string digest = sha256_digest(data);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      auto w = store_.begin_write();
      if (!w) return;
      for (size_t i = 0; i < data.size(); i += 65536) {
        if (!w->append(data.data() + i, std::min<size_t>(65536, data.size() - i))) return;
      }
      if (w->commit(digest)) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(store_.read_all(digest, 1 << 30).value(), data);
  EXPECT_EQ(temp_files(), 0u);
}

TEST_F(BlobStoreTest, MissingAndMalformedDigestsAreNotFound) {
  EXPECT_EQ(store_.open_read(sha256_digest("nope")).error().code, "BLOB_UNKNOWN");
  EXPECT_EQ(store_.open_read("sha256:../../x").error().code, "BLOB_UNKNOWN");
  auto d = store_.put("bytes").value();
  EXPECT_OK(store_.remove(d));
  EXPECT_FALSE(store_.size_of(d));
  EXPECT_EQ(store_.remove(d).error().error_class, ErrorClass::kNotFound);
}

}  // namespace
}  // namespace berth::ecr
