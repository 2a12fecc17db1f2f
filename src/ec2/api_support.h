// ec2/api_support: what every EC2 handler shares. Owns the handler context,
// reading scalars, filters, tags and pagination from EC2 form input,
// EC2's common error values, and small XML pieces (tagSet, state).
// Internal to the ec2 module.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/query_codec.h"
#include "api/service.h"
#include "api/xml_writer.h"
#include "core/error.h"
#include "ec2/ec2_service.h"
#include "store/store.h"

namespace berth::ec2 {

struct Context {
  store::Database& db;
  Ec2Options options;
};
using ContextPtr = std::shared_ptr<const Context>;

// Each area adds its operations (one file per area).
void add_region_operations(api::Service& service, const ContextPtr& ctx);
void add_vpc_operations(api::Service& service, const ContextPtr& ctx);
void add_security_group_operations(api::Service& service, const ContextPtr& ctx);
void add_security_group_rule_operations(api::Service& service, const ContextPtr& ctx);
void add_key_pair_operations(api::Service& service, const ContextPtr& ctx);
void add_instance_operations(api::Service& service, const ContextPtr& ctx);
void add_catalogue_operations(api::Service& service, const ContextPtr& ctx);
void add_network_interface_operations(api::Service& service, const ContextPtr& ctx);  // network_interfaces.cpp

// True when a key pair of that name exists (key_pairs.cpp; RunInstances checks KeyName).
Result<bool> key_pair_exists(store::Tx& tx, std::string_view name);

// ---------------------------------------------------------------- errors

// MissingParameter "The request must contain the parameter <name>".
Error missing_parameter(std::string_view name);
// InvalidParameterValue with the given message.
Error invalid_parameter_value(std::string message);
// InvalidParameterCombination with the given message.
Error invalid_parameter_combination(std::string message);

// ---------------------------------------------------------------- scalars

const api::QueryView& query_of(const api::OperationInput& input);
// The value, MissingParameter when absent or empty.
Result<std::string> required(const api::QueryView& q, std::string_view key);
std::string optional_string(const api::QueryView& q, std::string_view key);
// nullopt when absent; InvalidParameterValue when not an integer.
Result<std::optional<int64_t>> optional_int(const api::QueryView& q, std::string_view key);
// "true"/"false"; fallback when absent.
Result<bool> optional_bool(const api::QueryView& q, std::string_view key, bool fallback);
// values(key) as owned strings.
Result<std::vector<std::string>> string_list(const api::QueryView& q, std::string_view key);

// DryRun=true: EC2 answers DryRunOperation (HTTP 412) when the call would have succeeded.
std::optional<Error> dry_run_check(const api::QueryView& q);

// ---------------------------------------------------------------- filters

struct Filter {
  std::string name;
  std::vector<std::string> values;
};
using Filters = std::vector<Filter>;

// Filter.N.Name / Filter.N.Value.M.
Result<Filters> parse_filters(const api::QueryView& q);
// EC2 filter values are globs: '*' any run, '?' one character.
bool glob_match(std::string_view pattern, std::string_view text);
// True when any value of the filter glob-matches text.
bool any_value_matches(const Filter& filter, std::string_view text);
// InvalidParameterValue "The filter '<name>' is invalid".
Error unknown_filter(std::string_view name);

// ---------------------------------------------------------------- tags

struct Tag {
  std::string key;
  std::string value;
};
using Tags = std::vector<Tag>;

// TagSpecification.N.{ResourceType,Tag.M.Key,Tag.M.Value}: the tags for
// resource_type. Other resource types are InvalidParameterValue, or
// skipped with skip_other_types (RunInstances also tags volumes, ENIs).
Result<Tags> parse_tag_specifications(const api::QueryView& q, std::string_view resource_type,
                                      bool skip_other_types = false);
Status put_tags(store::Tx& tx, std::string_view resource_id, const Tags& tags);
Result<Tags> load_tags(store::Tx& tx, std::string_view resource_id);
Status delete_tags(store::Tx& tx, std::string_view resource_id);
// <tagSet>...</tagSet>, nothing when empty (as EC2 omits it).
void write_tag_set(api::XmlWriter& w, const Tags& tags);
// tag:<key>, tag-key, tag-value filters; nullopt when the filter is not a tag filter.
std::optional<bool> match_tag_filter(const Filter& filter, const Tags& tags);

// ---------------------------------------------------------------- pagination

struct Page {
  size_t offset = 0;
  size_t limit = SIZE_MAX;  // SIZE_MAX: no MaxResults given
};
// MaxResults (bounds checked against [min, max]) and NextToken.
Result<Page> parse_page(const api::QueryView& q, int64_t min_results, int64_t max_results);
// The token for the page after [offset, offset + count) of total, or "" when done.
std::string next_token(const Page& page, size_t total);
// Writes <nextToken> when there is one.
void write_next_token(api::XmlWriter& w, const std::string& token);

// ---------------------------------------------------------------- ids

// "The <what> ID '<id>' is malformed" for ids that do not start with prefix.
bool has_id_prefix(std::string_view id, std::string_view prefix);

// Milliseconds since the epoch, the store's time format.
int64_t to_millis(WallTime t);
WallTime from_millis(int64_t ms);

}  // namespace berth::ec2
