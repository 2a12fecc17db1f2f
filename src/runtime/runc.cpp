#include "runtime/runc.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fstream>
#include <sstream>

#include "runtime/subprocess.h"

namespace berth::runtime {
namespace {

namespace json = boost::json;
constexpr std::chrono::seconds kRuncTimeout{30};

RuncState state_from(const json::object& o) {
  RuncState s;
  if (auto* v = o.if_contains("id"); v && v->is_string()) s.id = std::string(v->as_string());
  if (auto* v = o.if_contains("status"); v && v->is_string()) s.status = std::string(v->as_string());
  if (auto* v = o.if_contains("pid"); v && v->is_int64()) s.pid = static_cast<int>(v->as_int64());
  if (auto* v = o.if_contains("bundle"); v && v->is_string()) s.bundle = std::string(v->as_string());
  return s;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<RuncState> parse_runc_state(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Error::internal("runc state: not a JSON object");
  return state_from(v.as_object());
}

Result<std::vector<RuncState>> parse_runc_list(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  std::vector<RuncState> out;
  if (ec) return Error::internal("runc list: not JSON");
  if (v.is_null()) return out;  // runc prints null for no containers
  if (!v.is_array()) return Error::internal("runc list: not a JSON array");
  for (const auto& e : v.as_array())
    if (e.is_object()) out.push_back(state_from(e.as_object()));
  return out;
}

std::vector<std::string> Runc::run_argv(const RunOptions& o) const {
  std::vector<std::string> argv = run_prefix_;
  argv.insert(argv.end(), {binary_, "--root", root_, "run", "--detach", "--bundle", o.bundle, "--pid-file", o.pid_file});
  if (!o.console_socket.empty()) argv.insert(argv.end(), {"--console-socket", o.console_socket});
  argv.push_back(o.id);
  return argv;
}

std::vector<std::string> Runc::exec_argv(const ExecOptions& o) const {
  std::vector<std::string> argv = {binary_, "--root", root_, "exec", o.id};
  argv.insert(argv.end(), o.args.begin(), o.args.end());
  return argv;
}

std::vector<std::string> Runc::kill_argv(const std::string& id, int signal, bool all) const {
  std::vector<std::string> argv = {binary_, "--root", root_, "kill"};
  if (all) argv.push_back("--all");
  argv.push_back(id);
  argv.push_back(std::to_string(signal));
  return argv;
}

std::vector<std::string> Runc::delete_argv(const std::string& id, bool force) const {
  std::vector<std::string> argv = {binary_, "--root", root_, "delete"};
  if (force) argv.push_back("--force");
  argv.push_back(id);
  return argv;
}

std::vector<std::string> Runc::state_argv(const std::string& id) const {
  return {binary_, "--root", root_, "state", id};
}

std::vector<std::string> Runc::list_argv() const {
  return {binary_, "--root", root_, "list", "--format", "json"};
}

Result<int> Runc::run_detached(const RunOptions& o, int output_fd) const {
  auto r = run_program_to_fd(run_argv(o), output_fd, kRuncTimeout, o.stdin_fd);
  if (!r) return std::move(r).error();
  if (r->exit_code != 0) return Error::internal("runc run exited " + std::to_string(r->exit_code));
  std::ifstream in(o.pid_file);
  int pid = 0;
  if (!(in >> pid) || pid <= 0) return Error::internal("runc run: no pid in " + o.pid_file);
  return pid;
}

Result<int> Runc::exec(const ExecOptions& o, std::chrono::milliseconds timeout) const {
  auto r = run_program(exec_argv(o), timeout);
  if (!r) return std::move(r).error();
  return r->exit_code;
}

Status Runc::kill(const std::string& id, int signal) const {
  auto r = run_program(kill_argv(id, signal), kRuncTimeout);
  if (!r) return std::move(r).error();
  if (r->exit_code != 0) return Error::conflict("RuncKill", trimmed(r->err));
  return Ok{};
}

Status Runc::remove(const std::string& id, bool force) const {
  auto r = run_program(delete_argv(id, force), kRuncTimeout);
  if (!r) return std::move(r).error();
  if (r->exit_code != 0) {
    if (r->err.find("does not exist") != std::string::npos) return Error::not_found("RuncNotFound", trimmed(r->err));
    return Error::internal("runc delete: " + trimmed(r->err));
  }
  return Ok{};
}

Result<RuncState> Runc::state(const std::string& id) const {
  auto r = run_program(state_argv(id), kRuncTimeout);
  if (!r) return std::move(r).error();
  if (r->exit_code != 0) return Error::not_found("RuncNotFound", trimmed(r->err));
  return parse_runc_state(r->out);
}

Result<std::vector<RuncState>> Runc::list() const {
  auto r = run_program(list_argv(), kRuncTimeout);
  if (!r) return std::move(r).error();
  if (r->exit_code != 0) return Error::internal("runc list: " + trimmed(r->err));
  return parse_runc_list(r->out);
}

}  // namespace berth::runtime
