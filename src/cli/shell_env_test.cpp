// `berth env` in real shells: the lines are evaluated by bash and zsh, the
// aws wrapper runs in front of a stand-in aws CLI that prints its
// arguments, and --unset restores PATH and the variables.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/data_dir.h"
#include "cli/shell_env.h"

namespace berth::cli {
namespace {

namespace fs = std::filesystem;

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return "popen failed";
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

void write(const fs::path& path, const std::string& text,
           fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
  std::ofstream(path) << text;
  fs::permissions(path, perms);
}

class ShellEnvTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!fs::exists(GetParam())) GTEST_FAIL() << GetParam() << " is missing: scripts/install-deps.sh installs it";
    // A data dir with a quote in its name: every line must quote.
    root_ = fs::temp_directory_path() / ("berth-env-test-" + std::to_string(::getpid()));
    data_ = root_ / "data dir's";
    fs::create_directories(data_);
    fs::create_directories(root_ / "real");
    write(root_ / "real" / "aws", "#!/bin/sh\necho \"real aws: $*\"\n", fs::perms::owner_all);
    auto bin = install_aws_wrapper(data_.string());
    ASSERT_TRUE(bin.ok()) << bin.error().message;
    ShellEnv env{"http://127.0.0.9:4566", "AKIDEXAMPLE", "se/cr+et=", "us-east-1", *bin};
    write(root_ / "env.sh", export_lines(env));
    write(root_ / "unset.sh", unset_lines(*bin));
  }
  void TearDown() override { fs::remove_all(root_); }

  // Runs `script` in the shell under test with PATH = the stand-in aws first.
  std::string shell(const std::string& script) {
    std::string path = (root_ / "real").string() + ":/usr/bin:/bin";
    std::string file = (root_ / "script.sh").string();
    write(file, "PATH='" + path + "'\n" + script);
    return run(GetParam() + " " + file);
  }

  fs::path root_, data_;
};

TEST_P(ShellEnvTest, AwsReachesTheEndpointOnceAndUnsetUndoesIt) {
  std::string env = shell_quote((root_ / "env.sh").string()), unset = shell_quote((root_ / "unset.sh").string());
  std::string out = shell(". " + env + "\n. " + env +  // twice: PATH gets the directory once
                          "\necho \"path=$PATH\"\necho \"key=$AWS_SECRET_ACCESS_KEY region=$AWS_DEFAULT_REGION\""
                          "\naws ecs list-clusters --output text"
                          "\naws --endpoint-url=http://elsewhere ecs list-clusters"
                          "\nsh -c 'aws sts get-caller-identity'"  // a child process finds it too
                          "\n. " + unset + "\necho \"after=$PATH endpoint=${AWS_ENDPOINT_URL-none}\""
                          "\naws ecs list-clusters\n");
  std::string bin = (data_ / "bin").string();
  std::string real = (root_ / "real").string();
  EXPECT_NE(out.find("path=" + bin + ":" + real + ":/usr/bin:/bin\n"), std::string::npos) << out;
  EXPECT_NE(out.find("key=se/cr+et= region=us-east-1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("real aws: --endpoint-url http://127.0.0.9:4566 ecs list-clusters --output text\n"),
            std::string::npos) << out;
  EXPECT_NE(out.find("real aws: --endpoint-url=http://elsewhere ecs list-clusters\n"), std::string::npos) << out;
  EXPECT_NE(out.find("real aws: --endpoint-url http://127.0.0.9:4566 sts get-caller-identity\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("after=" + real + ":/usr/bin:/bin endpoint=none\n"), std::string::npos) << out;
  EXPECT_NE(out.find("real aws: ecs list-clusters\n"), std::string::npos) << out;
}

TEST_P(ShellEnvTest, WrapperWithoutARealAwsSaysSoInsteadOfLooping) {
  std::string out = shell(". " + shell_quote((root_ / "env.sh").string()) +
                          "\nPATH=" + shell_quote((data_ / "bin").string()) + "\naws ecs list-clusters\necho rc=$?\n");
  EXPECT_NE(out.find("rc=127"), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(Shells, ShellEnvTest, ::testing::Values("/bin/bash", "/usr/bin/zsh"),
                         [](const auto& info) { return info.param == "/bin/bash" ? "bash" : "zsh"; });

TEST(ShellQuote, SurvivesQuotes) { EXPECT_EQ(shell_quote("a'b c"), "'a'\\''b c'"); }

}  // namespace
}  // namespace berth::cli
