#include "runtime/volumes.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "runtime/etc_files.h"
#include "core/testing/expect_ok.h"

namespace berth::runtime {
namespace {

namespace fs = std::filesystem;

class VolumesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("berth-volumes-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(VolumesTest, EachKindGetsItsDirectory) {
  std::vector<Volume> volumes{Volume::scratch("scratch"),
                              Volume::host("host", (root_ / "host" / "data").string()),
                              Volume::docker("cache"),
                              Volume::docker("shared", true, true)};
  auto prepared = prepare_volumes(volumes, root_ / "task", root_ / "shared");
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  EXPECT_EQ(prepared->at("scratch").path, root_ / "task" / "volumes" / "scratch");
  EXPECT_EQ(prepared->at("host").path, root_ / "host" / "data");
  EXPECT_FALSE(prepared->at("host").docker);
  EXPECT_TRUE(prepared->at("cache").docker);
  EXPECT_EQ(prepared->at("shared").path, root_ / "shared" / "shared" / "_data");
  for (const auto& [name, v] : *prepared) EXPECT_TRUE(fs::is_directory(v.path)) << name;
}

TEST_F(VolumesTest, MissingSharedVolumeWithoutAutoprovisionIsRefusedAndNothingMade) {
  std::vector<Volume> volumes{Volume::scratch("scratch"),
                              Volume::docker("db", true, false)};
  auto prepared = prepare_volumes(volumes, root_ / "task", root_ / "shared");
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error().code, "VolumeNotFound");
  EXPECT_NE(prepared.error().message.find("volume 'db' does not exist and autoprovision is set to false"),
            std::string::npos)
      << prepared.error().message;
  EXPECT_FALSE(fs::exists(root_ / "task"));
  fs::create_directories(root_ / "shared" / "db" / "_data");
  EXPECT_OK(prepare_volumes(volumes, root_ / "task", root_ / "shared"));
}

TEST_F(VolumesTest, BadNamesAndRelativeHostPathsAreRefused) {
  EXPECT_FALSE(prepare_volumes({Volume::scratch("../up")}, root_ / "t", root_ / "s").ok());
  EXPECT_FALSE(prepare_volumes({Volume::host("h", "relative/dir")}, root_ / "t", root_ / "s").ok());
}

TEST_F(VolumesTest, VolumesFromCarriesMountsTransitivelyAndReadOnly) {
  TaskSpec task;
  ContainerSpec writer, reader, third;
  writer.name = "writer";
  writer.mount_points = {{"data", "/data", false}, {"logs", "/logs", true}};
  reader.name = "reader";
  reader.volumes_from = {{"writer", true}};
  third.name = "third";
  third.volumes_from = {{"reader", false}};
  task.containers = {writer, reader, third};
  std::map<std::string, PreparedVolume> volumes{{"data", {"/v/data"}}, {"logs", {"/v/logs"}}};
  auto binds = container_binds(task, 1, volumes);
  ASSERT_TRUE(binds.ok()) << binds.error().message;
  ASSERT_EQ(binds->size(), 2u);
  EXPECT_EQ((*binds)[0].destination, "/data");
  EXPECT_TRUE((*binds)[0].read_only);  // readOnly volumesFrom makes all of them read-only
  binds = container_binds(task, 2, volumes);
  ASSERT_OK(binds);
  ASSERT_EQ(binds->size(), 2u);
  EXPECT_TRUE((*binds)[0].read_only);  // as its source (reader) has it
  task.containers[0].mount_points.push_back({"nope", "/x", false});
  EXPECT_FALSE(container_binds(task, 0, volumes).ok());
}

TEST_F(VolumesTest, CopyUpFillsAnEmptyDockerVolumeOnly) {
  fs::create_directories(root_ / "image" / "etc" / "app");
  std::ofstream(root_ / "image" / "etc" / "app" / "app.conf") << "port=80\n";
  auto prepared = prepare_volumes({Volume::docker("conf"), Volume::host("bind", (root_ / "bind").string())},
                                  root_ / "task", root_ / "shared");
  ASSERT_OK(prepared);
  std::vector<BindMount> binds{{prepared->at("conf").path.string(), "/etc/app", false},
                               {prepared->at("bind").path.string(), "/etc/app2", false}};
  fs::create_directories(root_ / "image" / "etc" / "app2");
  std::ofstream(root_ / "image" / "etc" / "app2" / "x") << "x";
  ASSERT_OK(copy_up(*prepared, binds, (root_ / "image").string()));
  EXPECT_TRUE(fs::exists(prepared->at("conf").path / "app.conf"));
  EXPECT_FALSE(fs::exists(prepared->at("bind").path / "x"));
  // Not empty any more: a second task's copy-up leaves the user's changes.
  std::ofstream(prepared->at("conf").path / "app.conf") << "port=8080\n";
  ASSERT_OK(copy_up(*prepared, binds, (root_ / "image").string()));
  std::ifstream in(prepared->at("conf").path / "app.conf");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "port=8080");
}

TEST_F(VolumesTest, CopyUpNeverLeavesTheImage) {
  // The host's own files, outside the image: a symlink or ".." must not reach them.
  fs::create_directories(root_ / "host-secrets");
  std::ofstream(root_ / "host-secrets" / "key") << "k";
  fs::create_directories(root_ / "image" / "data");
  fs::create_symlink(root_ / "host-secrets", root_ / "image" / "link");  // absolute: resolved inside the image
  fs::create_symlink("../../host-secrets", root_ / "image" / "data" / "up");
  auto prepared = prepare_volumes({Volume::docker("a"), Volume::docker("b")}, root_ / "task", root_ / "shared");
  ASSERT_OK(prepared);
  std::vector<BindMount> binds{{prepared->at("a").path.string(), "/link", false},
                               {prepared->at("b").path.string(), "/data/up", false}};
  ASSERT_OK(copy_up(*prepared, binds, (root_ / "image").string()));
  EXPECT_FALSE(fs::exists(prepared->at("a").path / "key"));
  EXPECT_FALSE(fs::exists(prepared->at("b").path / "key"));

  TaskSpec task;
  ContainerSpec c;
  c.name = "c";
  c.mount_points = {{"a", "/../../host-secrets"}};
  task.containers = {c};
  EXPECT_FALSE(container_binds(task, 0, *prepared).ok());
}

TEST(EtcFiles, HostsCarryExtraHosts) {
  auto hosts = hosts_file("web", {{"db.internal", "10.0.0.5"}});
  EXPECT_NE(hosts.find("127.0.0.1\tlocalhost\n"), std::string::npos);
  EXPECT_NE(hosts.find("127.0.1.1\tweb\n"), std::string::npos);
  EXPECT_NE(hosts.find("10.0.0.5\tdb.internal\n"), std::string::npos);
}

TEST(EtcFiles, ResolvConfFromDefinitionOrHostWithoutLoopback) {
  EXPECT_EQ(resolv_conf({"10.0.0.2"}, {"corp.example"}, "nameserver 127.0.0.53\n"),
            "search corp.example\nnameserver 10.0.0.2\n");
  auto from_host = resolv_conf({}, {}, "nameserver 127.0.0.53\nnameserver 192.0.2.1\noptions edns0\n");
  EXPECT_EQ(from_host, "nameserver 192.0.2.1\noptions edns0\n");
  EXPECT_EQ(resolv_conf({}, {}, "nameserver 127.0.0.53\n"), "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
}

}  // namespace
}  // namespace berth::runtime
