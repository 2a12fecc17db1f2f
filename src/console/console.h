// console: berth's web console at http://ADDR:PORT/console/ (the daemon's
// own port). docs/console.md describes it for users.
//
//   GET  /console            301 to /console/
//   GET  /console/<file>     the embedded front end (static_files.h), no credentials needed
//   POST /console/sign-in    {"token"} -> {"AccessKeyId","SecretAccessKey","UserArn"}: a
//                            `berth console-url` link, redeemed once (sign_in_tokens.h)
//   BerthConsole.CreateConsoleSignInToken   an AWS-style JSON 1.1 operation (signing name
//                            "berth"), for `berth console-url`: a token standing for the
//                            caller's own access key. IAM decides as for any call
//                            (AdministratorAccess only: it is not a read-only action).
//
// The page holds the credentials in sessionStorage and signs every call
// itself (SigV4 in WebCrypto) against the ordinary API on this port, so IAM
// decides exactly as it does for the aws CLI: the console is one more client.
#pragma once

#include "api/service.h"
#include "console/sign_in_tokens.h"
#include "core/clock.h"
#include "iam/iam.h"
#include "net/http_server.h"

namespace berth::console {

inline constexpr std::string_view kSigningName = "berth";
inline constexpr std::string_view kTargetPrefix = "BerthConsole";

class Console {
 public:
  Console(iam::Iam& iam, const Clock& clock) : iam_(iam), clock_(clock) {}

  // The API side (CreateConsoleSignInToken), for the front door.
  api::Service service();
  // Every request whose path is /console or starts with /console/.
  net::Task<net::Response> handle(net::Request& request);

  // The synchronous core of POST /console/sign-in (unit tests drive it).
  net::Response redeem(std::string_view body);
  SignInTokens& tokens() { return tokens_; }

 private:
  iam::Iam& iam_;
  const Clock& clock_;
  SignInTokens tokens_;
};

}  // namespace berth::console
