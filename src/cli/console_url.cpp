#include "cli/console_url.h"

#include <cstdio>

#include "cli/api_client.h"
#include "cli/data_dir.h"

namespace berth::cli {

int run_console_url(const Options& options) {
  auto api = ApiClient::for_data_dir(data_dir_or_default(options.data_dir));
  if (!api) {
    std::fprintf(stderr, "berth console-url: %s\n", api.error().message.c_str());
    return 1;
  }
  auto answer = (*api)->console("CreateConsoleSignInToken", boost::json::object{});
  const boost::json::value* token = answer && answer->is_object() ? answer->as_object().if_contains("token") : nullptr;
  if (token == nullptr || !token->is_string()) {
    std::fprintf(stderr, "berth console-url: %s\n",
                 answer ? "the daemon answered without a token (a berth built without the console?)"
                        : answer.error().message.c_str());
    return 1;
  }
  std::printf("%s/console/#token=%s\n", (*api)->endpoint().c_str(), token->as_string().c_str());
  return 0;
}

}  // namespace berth::cli
