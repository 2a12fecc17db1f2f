// The IAM API: one function per operation, each reading its query members,
// calling Iam and writing the model's result members as XML.
#include <string>

#include "api/xml_writer.h"
#include "iam/service_support.h"
#include "iam/services.h"
#include "iam/validation.h"

namespace berth::iam {
namespace {

using api::CallContext;
using api::OperationInput;
using api::XmlWriter;
using detail::write_truncation;

void write_user(XmlWriter& w, std::string_view account_id, const User& user) {
  w.open("User")
      .leaf("Path", user.path)
      .leaf("UserName", user.name)
      .leaf("UserId", user.user_id)
      .leaf("Arn", user_arn(account_id, user))
      .leaf_time("CreateDate", user.created)
      .close("User");
}

// The user an operation is about: the UserName member, or else the caller.
Result<std::string_view> target_user(const CallContext& ctx, const api::QueryView& q) {
  auto name = optional_name(q, "UserName", "userName", 128);
  if (!name) return std::move(name).error();
  if (*name) return **name;
  return std::string_view(ctx.caller.user_name);
}

Result<std::string> create_user(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = required_name(*in.query, "UserName", "userName", 64);
  if (!name) return std::move(name).error();
  auto user_path = path(*in.query);
  if (!user_path) return std::move(user_path).error();
  auto user = iam.create_user(*name, *user_path);
  if (!user) return std::move(user).error();
  std::string out;
  XmlWriter w(out);
  write_user(w, iam.account_id(), *user);
  return out;
}

Result<std::string> get_user(Iam& iam, const CallContext& ctx, const OperationInput& in) {
  auto name = target_user(ctx, *in.query);
  if (!name) return std::move(name).error();
  auto user = iam.get_user(*name);
  if (!user) return std::move(user).error();
  std::string out;
  XmlWriter w(out);
  write_user(w, iam.account_id(), *user);
  return out;
}

Result<std::string> list_users(Iam& iam, const CallContext&, const OperationInput& in) {
  auto prefix = path_prefix(*in.query);
  if (!prefix) return std::move(prefix).error();
  auto limit = max_items(*in.query);
  if (!limit) return std::move(limit).error();
  auto from = marker(*in.query);
  if (!from) return std::move(from).error();
  auto page = iam.list_users(*prefix, *from, *limit);
  if (!page) return std::move(page).error();
  std::string out;
  XmlWriter w(out);
  w.open("Users");
  for (const auto& user : page->items) {
    w.open("member")
        .leaf("Path", user.path)
        .leaf("UserName", user.name)
        .leaf("UserId", user.user_id)
        .leaf("Arn", user_arn(iam.account_id(), user))
        .leaf_time("CreateDate", user.created)
        .close("member");
  }
  w.close("Users");
  write_truncation(w, page->next_marker);
  return out;
}

Result<std::string> delete_user(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = required_name(*in.query, "UserName", "userName", 128);
  if (!name) return std::move(name).error();
  if (auto s = iam.delete_user(*name); !s) return std::move(s).error();
  return std::string();
}

Result<std::string> create_access_key(Iam& iam, const CallContext& ctx, const OperationInput& in) {
  auto name = target_user(ctx, *in.query);
  if (!name) return std::move(name).error();
  auto key = iam.create_access_key(*name);
  if (!key) return std::move(key).error();
  std::string out;
  XmlWriter w(out);
  w.open("AccessKey")
      .leaf("UserName", key->user_name)
      .leaf("AccessKeyId", key->access_key_id)
      .leaf("Status", "Active")
      .leaf("SecretAccessKey", key->secret)
      .leaf_time("CreateDate", key->created)
      .close("AccessKey");
  return out;
}

Result<std::string> list_access_keys(Iam& iam, const CallContext& ctx, const OperationInput& in) {
  auto name = target_user(ctx, *in.query);
  if (!name) return std::move(name).error();
  auto limit = max_items(*in.query);
  if (!limit) return std::move(limit).error();
  auto from = marker(*in.query);
  if (!from) return std::move(from).error();
  auto page = iam.list_access_keys(*name, *from, *limit);
  if (!page) return std::move(page).error();
  std::string out;
  XmlWriter w(out);
  w.open("AccessKeyMetadata");
  for (const auto& key : page->items) {
    w.open("member")
        .leaf("UserName", key.user_name)
        .leaf("AccessKeyId", key.access_key_id)
        .leaf("Status", key.active ? "Active" : "Inactive")
        .leaf_time("CreateDate", key.created)
        .close("member");
  }
  w.close("AccessKeyMetadata");
  write_truncation(w, page->next_marker);
  return out;
}

Result<std::string> delete_access_key(Iam& iam, const CallContext& ctx, const OperationInput& in) {
  auto id = in.query->get("AccessKeyId");
  if (!id)
    return validation_error(
        "1 validation error detected: Value null at 'accessKeyId' failed to satisfy constraint: Member must not be "
        "null");
  auto name = target_user(ctx, *in.query);
  if (!name) return std::move(name).error();
  if (auto s = iam.delete_access_key(*name, *id); !s) return std::move(s).error();
  return std::string();
}

Result<std::string> attach_user_policy(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = required_name(*in.query, "UserName", "userName", 64);
  if (!name) return std::move(name).error();
  auto arn = required_policy_arn(*in.query);
  if (!arn) return std::move(arn).error();
  if (auto s = iam.attach_user_policy(*name, *arn); !s) return std::move(s).error();
  return std::string();
}

Result<std::string> detach_user_policy(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = required_name(*in.query, "UserName", "userName", 64);
  if (!name) return std::move(name).error();
  auto arn = required_policy_arn(*in.query);
  if (!arn) return std::move(arn).error();
  if (auto s = iam.detach_user_policy(*name, *arn); !s) return std::move(s).error();
  return std::string();
}

Result<std::string> list_attached_user_policies(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = required_name(*in.query, "UserName", "userName", 64);
  if (!name) return std::move(name).error();
  auto limit = max_items(*in.query);
  if (!limit) return std::move(limit).error();
  auto from = marker(*in.query);
  if (!from) return std::move(from).error();
  auto page = iam.list_attached_user_policies(*name, *from, *limit);
  if (!page) return std::move(page).error();
  std::string out;
  XmlWriter w(out);
  w.open("AttachedPolicies");
  for (ManagedPolicy p : page->items)
    w.open("member").leaf("PolicyName", policy_name(p)).leaf("PolicyArn", policy_arn(p)).close("member");
  w.close("AttachedPolicies");
  write_truncation(w, page->next_marker);
  return out;
}

}  // namespace

api::Service make_iam_service(Iam& iam) {
  api::Service service;
  service.signing_name = "iam";
  service.protocol = api::Protocol::kQuery;
  service.xmlns = std::string(kIamXmlns);
  service.api_version = "2010-05-08";
  auto bind = [&iam](auto fn) {
    return [&iam, fn](const CallContext& ctx, const OperationInput& in) { return fn(iam, ctx, in); };
  };
  service.add("CreateUser", bind(create_user));
  service.add("GetUser", bind(get_user));
  service.add("ListUsers", bind(list_users));
  service.add_without_output("DeleteUser", bind(delete_user));
  service.add("CreateAccessKey", bind(create_access_key));
  service.add("ListAccessKeys", bind(list_access_keys));
  service.add_without_output("DeleteAccessKey", bind(delete_access_key));
  service.add_without_output("AttachUserPolicy", bind(attach_user_policy));
  service.add_without_output("DetachUserPolicy", bind(detach_user_policy));
  service.add("ListAttachedUserPolicies", bind(list_attached_user_policies));
  detail::add_role_operations(service, iam);
  return service;
}

}  // namespace berth::iam
