// The CloudWatch Logs operations: one function per operation, each reading
// its members against the botocore model's bounds, calling LogStore and
// writing the model's output shape.
#include "logs/logs_service.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <functional>

namespace berth::logs {
namespace {

namespace json = boost::json;
using api::CallContext;
using api::OperationInput;

Error invalid(std::string message) {
  Error e = Error::invalid(std::string(kInvalidParameter), std::move(message));
  e.http_status = 400;
  return e;
}

std::string constraint(std::string_view member, std::string_view text) {
  return "1 validation error detected: Value at '" + std::string(member) +
         "' failed to satisfy constraint: " + std::string(text);
}

// Reads members of a request body; a wrong type or bound is
// InvalidParameterException in AWS's validation wording.
class Members {
 public:
  explicit Members(const json::object& in) : in_(in) {}

  Result<std::optional<std::string>> opt_string(std::string_view member, size_t min = 0, size_t max = SIZE_MAX) const {
    const auto* v = in_.if_contains(member);
    if (!v || v->is_null()) return std::optional<std::string>();
    if (!v->is_string()) return invalid(constraint(member, "Member must be a string"));
    std::string s(v->get_string());
    if (s.size() < min)
      return invalid(constraint(member, "Member must have length greater than or equal to " + std::to_string(min)));
    if (s.size() > max)
      return invalid(constraint(member, "Member must have length less than or equal to " + std::to_string(max)));
    return std::optional<std::string>(std::move(s));
  }
  Result<std::string> req_string(std::string_view member, size_t min = 0, size_t max = SIZE_MAX) const {
    auto v = opt_string(member, min, max);
    if (!v) return std::move(v).error();
    if (!*v) return missing(member);
    return std::move(**v);
  }
  Result<std::optional<int64_t>> opt_int(std::string_view member, int64_t min, int64_t max) const {
    const auto* v = in_.if_contains(member);
    if (!v || v->is_null()) return std::optional<int64_t>();
    if (!v->is_int64() && !v->is_uint64()) return invalid(constraint(member, "Member must be a number"));
    int64_t n = v->is_int64() ? v->get_int64() : static_cast<int64_t>(std::min<uint64_t>(v->get_uint64(), INT64_MAX));
    if (n < min)
      return invalid(constraint(member, "Member must have value greater than or equal to " + std::to_string(min)));
    if (n > max)
      return invalid(constraint(member, "Member must have value less than or equal to " + std::to_string(max)));
    return std::optional<int64_t>(n);
  }
  Result<bool> opt_bool(std::string_view member) const {
    const auto* v = in_.if_contains(member);
    if (!v || v->is_null()) return false;
    if (!v->is_bool()) return invalid(constraint(member, "Member must be a boolean"));
    return v->get_bool();
  }
  Result<std::optional<std::vector<std::string>>> opt_strings(std::string_view member, size_t min_items,
                                                              size_t max_items) const {
    const auto* v = in_.if_contains(member);
    if (!v || v->is_null()) return std::optional<std::vector<std::string>>();
    if (!v->is_array()) return invalid(constraint(member, "Member must be a list"));
    const auto& a = v->get_array();
    if (a.size() < min_items)
      return invalid(
          constraint(member, "Member must have length greater than or equal to " + std::to_string(min_items)));
    if (a.size() > max_items)
      return invalid(constraint(member, "Member must have length less than or equal to " + std::to_string(max_items)));
    std::vector<std::string> out;
    for (const auto& item : a) {
      if (!item.is_string()) return invalid(constraint(member, "Member must be a list of strings"));
      out.emplace_back(item.get_string());
    }
    return std::optional<std::vector<std::string>>(std::move(out));
  }
  // A Tags map; nullopt when absent.
  Result<std::optional<Tags>> opt_tags(std::string_view member) const {
    const auto* v = in_.if_contains(member);
    if (!v || v->is_null()) return std::optional<Tags>();
    if (!v->is_object()) return invalid(constraint(member, "Member must be a map"));
    const auto& o = v->get_object();
    if (o.empty()) return invalid(constraint(member, "Member must have length greater than or equal to 1"));
    if (o.size() > 50) return invalid(constraint(member, "Member must have length less than or equal to 50"));
    Tags out;
    for (const auto& [k, val] : o) {
      if (!val.is_string()) return invalid(constraint(member, "Map value must be a string"));
      if (auto s = check_tag(k, val.get_string(), member); !s) return std::move(s).error();
      out.emplace_back(std::string(k), std::string(val.get_string()));
    }
    return std::optional<Tags>(std::move(out));
  }
  Result<Tags> req_tags(std::string_view member) const {
    auto t = opt_tags(member);
    if (!t) return std::move(t).error();
    if (!*t) return missing(member);
    return std::move(**t);
  }
  bool has(std::string_view member) const {
    const auto* v = in_.if_contains(member);
    return v && !v->is_null();
  }
  const json::object& object() const { return in_; }

  static Error missing(std::string_view member) {
    return invalid("1 validation error detected: Value null at '" + std::string(member) +
                   "' failed to satisfy constraint: Member must not be null");
  }

 private:
  // Tag keys and values: letters, digits, spaces and _.:/=+-@ (any non-ASCII byte counts as a letter).
  static bool tag_char(unsigned char c) {
    return c >= 0x80 || std::isalnum(c) || c == ' ' ||
           std::string_view("_.:/=+-@").find(static_cast<char>(c)) != std::string_view::npos;
  }
  static Status check_tag(std::string_view key, std::string_view value, std::string_view member) {
    if (key.empty() || key.size() > 128 || !std::all_of(key.begin(), key.end(), tag_char))
      return invalid(constraint(std::string(member) + ".key",
                                "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$"));
    if (value.size() > 256 || !std::all_of(value.begin(), value.end(), tag_char))
      return invalid(constraint(std::string(member) + ".value",
                                "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$"));
    return Ok{};
  }

  const json::object& in_;
};

std::string body(const json::object& o) { return json::serialize(o); }
std::string empty_body() { return "{}"; }

std::string hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::optional<std::string> unhex(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = digit(s[i]), lo = digit(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

Error bad_token() { return invalid("The specified nextToken is invalid."); }  // unverified wording

// The group a request names: logGroupName, or logGroupIdentifier (a name or
// a log group ARN), never both.
Result<std::string> group_of(const LogStore& store, const Members& m) {
  auto name = m.opt_string("logGroupName", 1, 512);
  if (!name) return std::move(name).error();
  auto id = m.opt_string("logGroupIdentifier", 1, 2048);
  if (!id) return std::move(id).error();
  if (*name && *id)
    return invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.");  // unverified wording
  if (*name) {
    if (auto s = check_group_name(**name); !s) return std::move(s).error();
    return std::move(**name);
  }
  if (!*id) return invalid("Should provide either name or ARN of the log group.");  // unverified wording
  if ((*id)->rfind("arn:", 0) == 0) {
    auto group = store.group_from_arn(**id);
    if (!group) {
      Error e = Error::not_found(std::string(kNotFound), std::string(kGroupNotFoundText));
      e.http_status = 400;
      return e;
    }
    return std::move(*group);
  }
  if (auto s = check_group_name(**id, "logGroupIdentifier"); !s) return std::move(s).error();
  return std::move(**id);
}

Result<std::string> group_name(const Members& m) {
  auto name = m.req_string("logGroupName");
  if (!name) return std::move(name).error();
  if (auto s = check_group_name(*name); !s) return std::move(s).error();
  return name;
}

Result<std::string> stream_name(const Members& m) {
  auto name = m.req_string("logStreamName");
  if (!name) return std::move(name).error();
  if (auto s = check_stream_name(*name); !s) return std::move(s).error();
  return name;
}

// The log group a resourceArn names.
Result<std::string> group_of_arn(const LogStore& store, const Members& m) {
  auto arn = m.req_string("resourceArn", 1, 1011);
  if (!arn) return std::move(arn).error();
  if (auto group = store.group_from_arn(*arn)) return std::move(*group);
  if (arn->rfind("arn:aws:logs:", 0) == 0 && arn->find(":log-group:") != std::string::npos) {
    Error e = Error::not_found(std::string(kNotFound), "The specified resource does not exist.");  // unverified
    e.http_status = 400;
    return e;
  }
  return invalid("Invalid ARN format: " + *arn);  // unverified wording
}

json::object tags_json(const Tags& tags) {
  json::object o;
  for (const auto& [k, v] : tags) o[k] = v;
  return o;
}

std::string sequence_token(int64_t sequence) {
  // AWS's tokens are 56 digits; these count the stream's batches.
  std::string digits = std::to_string(sequence);
  return "4" + std::string(55 - std::min<size_t>(55, digits.size()), '0') + digits;
}

// ---- groups ----

Result<std::string> create_log_group(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto name = group_name(m);
  if (!name) return std::move(name).error();
  auto kms = m.opt_string("kmsKeyId", 0, 256);
  if (!kms) return std::move(kms).error();
  auto tags = m.opt_tags("tags");
  if (!tags) return std::move(tags).error();
  auto klass = m.opt_string("logGroupClass");
  if (!klass) return std::move(klass).error();
  CreateGroupOptions options;
  options.kms_key_id = kms->value_or("");
  options.tags = tags->value_or(Tags{});
  options.log_group_class = klass->value_or("STANDARD");
  if (options.log_group_class != "STANDARD" && options.log_group_class != "INFREQUENT_ACCESS" &&
      options.log_group_class != "DELIVERY")
    return invalid("1 validation error detected: Value '" + options.log_group_class +
                   "' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: "
                   "[STANDARD, INFREQUENT_ACCESS, DELIVERY]");
  if (name->rfind("aws/", 0) == 0)
    return invalid("Log groups starting with AWS/ are reserved for AWS.");  // unverified wording
  if (auto s = store.create_log_group(*name, options); !s) return std::move(s).error();
  return empty_body();
}

Result<std::string> delete_log_group(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto name = group_name(m);
  if (!name) return std::move(name).error();
  if (auto s = store.delete_log_group(*name); !s) return std::move(s).error();
  return empty_body();
}

json::object group_json(const LogStore& store, const LogGroupInfo& g) {
  json::object o{{"logGroupName", g.name}, {"creationTime", g.creation_ms}};
  if (g.retention_days) o["retentionInDays"] = *g.retention_days;
  o["metricFilterCount"] = 0;
  o["arn"] = store.group_arn(g.name) + ":*";
  o["storedBytes"] = g.stored_bytes;
  if (!g.kms_key_id.empty()) o["kmsKeyId"] = g.kms_key_id;
  o["logGroupClass"] = g.log_group_class;
  o["logGroupArn"] = store.group_arn(g.name);
  return o;
}

Result<std::string> describe_log_groups(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto prefix = m.opt_string("logGroupNamePrefix", 1, 512);
  if (!prefix) return std::move(prefix).error();
  auto pattern = m.opt_string("logGroupNamePattern", 0, 512);
  if (!pattern) return std::move(pattern).error();
  auto limit = m.opt_int("limit", 1, 50);
  if (!limit) return std::move(limit).error();
  auto token = m.opt_string("nextToken", 1);
  if (!token) return std::move(token).error();
  if (*prefix && *pattern)
    return invalid("LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive.");  // unverified wording
  if (*prefix)
    if (auto s = check_group_name(**prefix, "logGroupNamePrefix"); !s) return std::move(s).error();
  GroupQuery q;
  q.name_prefix = prefix->value_or("");
  q.name_pattern = pattern->value_or("");
  q.limit = static_cast<int>(limit->value_or(50));
  if (*token) {
    auto after = unhex(**token);
    if (!after) return bad_token();
    q.after = std::move(*after);
  }
  auto page = store.describe_log_groups(q);
  if (!page) return std::move(page).error();
  json::array groups;
  for (const auto& g : page->items) groups.push_back(group_json(store, g));
  json::object out{{"logGroups", std::move(groups)}};
  if (page->more) out["nextToken"] = hex(page->items.back().name);
  return body(out);
}

// ---- streams ----

Result<std::string> create_log_stream(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto group = group_name(m);
  if (!group) return std::move(group).error();
  auto stream = stream_name(m);
  if (!stream) return std::move(stream).error();
  if (auto s = store.create_log_stream(*group, *stream); !s) return std::move(s).error();
  return empty_body();
}

Result<std::string> delete_log_stream(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto group = group_name(m);
  if (!group) return std::move(group).error();
  auto stream = stream_name(m);
  if (!stream) return std::move(stream).error();
  if (auto s = store.delete_log_stream(*group, *stream); !s) return std::move(s).error();
  return empty_body();
}

Result<std::string> describe_log_streams(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto group = group_of(store, m);
  if (!group) return std::move(group).error();
  auto prefix = m.opt_string("logStreamNamePrefix", 1, 512);
  if (!prefix) return std::move(prefix).error();
  auto order = m.opt_string("orderBy");
  if (!order) return std::move(order).error();
  auto descending = m.opt_bool("descending");
  if (!descending) return std::move(descending).error();
  auto limit = m.opt_int("limit", 1, 50);
  if (!limit) return std::move(limit).error();
  auto token = m.opt_string("nextToken", 1);
  if (!token) return std::move(token).error();
  StreamQuery q;
  q.group = std::move(*group);
  q.name_prefix = prefix->value_or("");
  std::string order_by = order->value_or("LogStreamName");
  if (order_by != "LogStreamName" && order_by != "LastEventTime")
    return invalid("1 validation error detected: Value '" + order_by +
                   "' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: "
                   "[LogStreamName, LastEventTime]");
  q.order_by_last_event = order_by == "LastEventTime";
  if (q.order_by_last_event && *prefix) return invalid("Cannot order by LastEventTime with a logStreamNamePrefix.");
  q.descending = *descending;
  q.limit = static_cast<int>(limit->value_or(50));
  if (*token) {
    // "<sort key>/<name>", hex-encoded.
    auto text = unhex(**token);
    if (!text) return bad_token();
    size_t slash = text->find('/');
    int64_t key = 0;
    if (slash == std::string::npos ||
        std::from_chars(text->data(), text->data() + slash, key).ptr != text->data() + slash)
      return bad_token();
    q.after = std::make_pair(key, text->substr(slash + 1));
  }
  auto page = store.describe_log_streams(q);
  if (!page) return std::move(page).error();
  json::array streams;
  std::string arn_prefix = store.group_arn(q.group) + ":log-stream:";
  for (const auto& s : page->items) {
    json::object o{{"logStreamName", s.name}, {"creationTime", s.creation_ms}};
    if (s.first_event_ms) o["firstEventTimestamp"] = *s.first_event_ms;
    if (s.last_event_ms) o["lastEventTimestamp"] = *s.last_event_ms;
    if (s.last_ingestion_ms) o["lastIngestionTime"] = *s.last_ingestion_ms;
    o["uploadSequenceToken"] = sequence_token(s.upload_sequence);
    o["arn"] = arn_prefix + s.name;
    o["storedBytes"] = 0;  // AWS reports 0 for streams since 2019
    streams.push_back(std::move(o));
  }
  json::object out{{"logStreams", std::move(streams)}};
  if (page->more) {
    const auto& last = page->items.back();
    int64_t key = q.order_by_last_event ? last.last_event_ms.value_or(0) : 0;
    out["nextToken"] = hex(std::to_string(key) + "/" + last.name);
  }
  return body(out);
}

// ---- retention and tags ----

Result<std::string> put_retention_policy(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto group = group_name(m);
  if (!group) return std::move(group).error();
  auto days = m.opt_int("retentionInDays", INT32_MIN, INT32_MAX);
  if (!days) return std::move(days).error();
  if (!*days) return Members::missing("retentionInDays");
  if (!valid_retention_days(**days))
    // Unverified wording; the value set is AWS's.
    return invalid("1 validation error detected: Value '" + std::to_string(**days) +
                   "' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, "
                   "7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]");
  if (auto s = store.put_retention_policy(*group, static_cast<int>(**days)); !s) return std::move(s).error();
  return empty_body();
}

Result<std::string> delete_retention_policy(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto group = group_name(m);
  if (!group) return std::move(group).error();
  if (auto s = store.put_retention_policy(*group, std::nullopt); !s) return std::move(s).error();
  return empty_body();
}

Result<std::string> tag_log_group(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto group = group_name(m);
  if (!group) return std::move(group).error();
  auto tags = m.req_tags("tags");
  if (!tags) return std::move(tags).error();
  if (auto s = store.tag(*group, *tags); !s) return std::move(s).error();
  return empty_body();
}

Result<std::string> untag_log_group(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto group = group_name(m);
  if (!group) return std::move(group).error();
  auto keys = m.opt_strings("tags", 1, 50);
  if (!keys) return std::move(keys).error();
  if (!*keys) return Members::missing("tags");
  if (auto s = store.untag(*group, **keys); !s) return std::move(s).error();
  return empty_body();
}

Result<std::string> list_tags_log_group(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto group = group_name(m);
  if (!group) return std::move(group).error();
  auto tags = store.tags(*group);
  if (!tags) return std::move(tags).error();
  return body({{"tags", tags_json(*tags)}});
}

Result<std::string> tag_resource(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto group = group_of_arn(store, m);
  if (!group) return std::move(group).error();
  auto tags = m.req_tags("tags");
  if (!tags) return std::move(tags).error();
  if (auto s = store.tag(*group, *tags); !s) return std::move(s).error();
  return empty_body();
}

Result<std::string> untag_resource(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto group = group_of_arn(store, m);
  if (!group) return std::move(group).error();
  auto keys = m.opt_strings("tagKeys", 0, 50);
  if (!keys) return std::move(keys).error();
  if (!*keys) return Members::missing("tagKeys");
  if (auto s = store.untag(*group, **keys); !s) return std::move(s).error();
  return empty_body();
}

Result<std::string> list_tags_for_resource(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto group = group_of_arn(store, m);
  if (!group) return std::move(group).error();
  auto tags = store.tags(*group);
  if (!tags) return std::move(tags).error();
  return body({{"tags", tags_json(*tags)}});
}

// ---- events ----

Result<std::vector<InputEvent>> input_events(const Members& m) {
  const auto* v = m.object().if_contains("logEvents");
  if (!v || v->is_null()) return Members::missing("logEvents");
  if (!v->is_array()) return invalid(constraint("logEvents", "Member must be a list"));
  std::vector<InputEvent> out;
  out.reserve(v->get_array().size());
  for (const auto& item : v->get_array()) {
    if (!item.is_object()) return invalid(constraint("logEvents", "Member must be a list of structures"));
    Members e(item.get_object());
    auto ts = e.opt_int("timestamp", 0, INT64_MAX);
    if (!ts) return std::move(ts).error();
    if (!*ts) return Members::missing("logEvents.member.timestamp");
    auto message = e.req_string("message", 1);
    if (!message) return std::move(message).error();
    out.push_back(InputEvent{**ts, std::move(*message)});
  }
  return out;
}

Result<std::string> put_log_events(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto group = group_name(m);
  if (!group) return std::move(group).error();
  auto stream = stream_name(m);
  if (!stream) return std::move(stream).error();
  // sequenceToken: accepted and ignored, as AWS does since January 2023.
  if (auto token = m.opt_string("sequenceToken", 1); !token) return std::move(token).error();
  auto events = input_events(m);
  if (!events) return std::move(events).error();
  auto outcome = store.put_log_events(*group, *stream, *events);
  if (!outcome) return std::move(outcome).error();
  json::object out{{"nextSequenceToken", sequence_token(outcome->upload_sequence)}};
  if (outcome->rejected.any()) {
    json::object r;
    if (outcome->rejected.too_new_start) r["tooNewLogEventStartIndex"] = *outcome->rejected.too_new_start;
    if (outcome->rejected.too_old_end) r["tooOldLogEventEndIndex"] = *outcome->rejected.too_old_end;
    if (outcome->rejected.expired_end) r["expiredLogEventEndIndex"] = *outcome->rejected.expired_end;
    out["rejectedLogEventsInfo"] = std::move(r);
  }
  return body(out);
}

Result<std::string> get_log_events(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto group = group_of(store, m);
  if (!group) return std::move(group).error();
  auto stream = stream_name(m);
  if (!stream) return std::move(stream).error();
  auto start = m.opt_int("startTime", 0, INT64_MAX);
  if (!start) return std::move(start).error();
  auto end = m.opt_int("endTime", 0, INT64_MAX);
  if (!end) return std::move(end).error();
  auto limit = m.opt_int("limit", 1, 10'000);
  if (!limit) return std::move(limit).error();
  auto head = m.opt_bool("startFromHead");
  if (!head) return std::move(head).error();
  auto token = m.opt_string("nextToken", 1);
  if (!token) return std::move(token).error();
  GetEventsQuery q;
  q.group = std::move(*group);
  q.stream = std::move(*stream);
  q.start_ms = *start;
  q.end_ms = *end;
  q.limit = static_cast<int>(limit->value_or(kDefaultEventsLimit));
  q.start_from_head = *head;
  if (*token) {
    std::string_view t = **token;
    if (t.size() < 4 || (t[0] != 'f' && t[0] != 'b') || t[1] != '/' || t.substr(t.size() - 2) != "/s")
      return bad_token();
    auto p = parse_position_token(t.substr(2, t.size() - 4));
    if (!p) return bad_token();
    (t[0] == 'f' ? q.forward : q.backward) = *p;
  }
  auto page = store.get_log_events(q);
  if (!page) return std::move(page).error();
  json::array events;
  for (const auto& e : page->events)
    events.push_back(
        json::object{{"timestamp", e.timestamp_ms}, {"message", e.message}, {"ingestionTime", e.ingestion_ms}});
  return body({{"events", std::move(events)},
               {"nextForwardToken", "f/" + position_token(page->forward) + "/s"},
               {"nextBackwardToken", "b/" + position_token(page->backward) + "/s"}});
}

Result<std::string> filter_log_events(LogStore& store, const CallContext&, const OperationInput& in) {
  Members m(*in.json);
  auto group = group_of(store, m);
  if (!group) return std::move(group).error();
  auto names = m.opt_strings("logStreamNames", 1, 100);
  if (!names) return std::move(names).error();
  auto prefix = m.opt_string("logStreamNamePrefix", 1, 512);
  if (!prefix) return std::move(prefix).error();
  auto start = m.opt_int("startTime", 0, INT64_MAX);
  if (!start) return std::move(start).error();
  auto end = m.opt_int("endTime", 0, INT64_MAX);
  if (!end) return std::move(end).error();
  auto pattern_text = m.opt_string("filterPattern", 0, 1024);
  if (!pattern_text) return std::move(pattern_text).error();
  auto limit = m.opt_int("limit", 1, 10'000);
  if (!limit) return std::move(limit).error();
  auto token = m.opt_string("nextToken", 1);
  if (!token) return std::move(token).error();
  if (auto interleaved = m.opt_bool("interleaved"); !interleaved) return std::move(interleaved).error();
  if (*names && *prefix)
    return invalid("logStreamNames and logStreamNamePrefix are mutually exclusive.");  // unverified wording
  auto pattern = FilterPattern::parse(pattern_text->value_or(""));
  if (!pattern) return std::move(pattern).error();
  FilterQuery q;
  q.group = std::move(*group);
  if (*names) {
    for (const auto& n : **names)
      if (auto s = check_stream_name(n, "logStreamNames.member"); !s) return std::move(s).error();
    q.stream_names = std::move(**names);
  }
  q.stream_prefix = prefix->value_or("");
  q.start_ms = *start;
  q.end_ms = *end;
  q.limit = static_cast<int>(limit->value_or(kDefaultEventsLimit));
  if (*token) {
    auto p = parse_position_token(**token);
    if (!p) return bad_token();
    q.after = *p;
  }
  auto page = store.filter_log_events(q, *pattern);
  if (!page) return std::move(page).error();
  json::array events;
  for (const auto& e : page->events)
    events.push_back(json::object{{"logStreamName", e.stream},
                                  {"timestamp", e.timestamp_ms},
                                  {"message", e.message},
                                  {"ingestionTime", e.ingestion_ms},
                                  {"eventId", position_token({e.timestamp_ms, e.id})}});
  json::array searched;
  for (const auto& s : page->searched_streams)
    searched.push_back(json::object{{"logStreamName", s}, {"searchedCompletely", !page->next}});
  json::object out{{"events", std::move(events)}, {"searchedLogStreams", std::move(searched)}};
  if (page->next) out["nextToken"] = position_token(*page->next);
  return body(out);
}

}  // namespace

std::string position_token(Position p) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%019lld%019lld", static_cast<long long>(std::max<int64_t>(0, p.timestamp_ms)),
                static_cast<long long>(std::max<int64_t>(0, p.id)));
  return buf;
}

std::optional<Position> parse_position_token(std::string_view token) {
  if (token.size() != 38) return std::nullopt;
  Position p;
  for (auto [part, out] : {std::pair{token.substr(0, 19), &p.timestamp_ms}, {token.substr(19), &p.id}}) {
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), *out);
    if (ec != std::errc() || end != part.data() + part.size() || *out < 0) return std::nullopt;
  }
  return p;
}

api::Service make_logs_service(std::shared_ptr<LogStore> store) {
  api::Service s;
  s.signing_name = "logs";
  s.protocol = api::Protocol::kJson;
  s.json_target_prefix = "Logs_20140328";
  s.api_version = "2014-03-28";
  using Handler = Result<std::string> (*)(LogStore&, const CallContext&, const OperationInput&);
  auto add = [&](std::string name, Handler handler) {
    s.add(std::move(name),
          [store, handler](const CallContext& ctx, const OperationInput& in) { return handler(*store, ctx, in); });
  };
  add("CreateLogGroup", create_log_group);
  add("DeleteLogGroup", delete_log_group);
  add("DescribeLogGroups", describe_log_groups);
  add("CreateLogStream", create_log_stream);
  add("DeleteLogStream", delete_log_stream);
  add("DescribeLogStreams", describe_log_streams);
  add("PutRetentionPolicy", put_retention_policy);
  add("DeleteRetentionPolicy", delete_retention_policy);
  add("TagLogGroup", tag_log_group);
  add("UntagLogGroup", untag_log_group);
  add("ListTagsLogGroup", list_tags_log_group);
  add("TagResource", tag_resource);
  add("UntagResource", untag_resource);
  add("ListTagsForResource", list_tags_for_resource);
  add("PutLogEvents", put_log_events);
  add("GetLogEvents", get_log_events);
  add("FilterLogEvents", filter_log_events);
  // FilterLogEvents reads; the front door's read-only rule goes by prefix.
  s.operations["FilterLogEvents"].read_only = true;
  return s;
}

}  // namespace berth::logs
