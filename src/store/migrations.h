// Versioned schema migrations. Each module owns an ordered list of
// migrations; schema_migrations(module, version) records which ran.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/error.h"
#include "store/store.h"

namespace berth::store {

struct Migration {
  int64_t version;        // > 0, strictly increasing within a module
  std::string_view name;  // for humans and logs, e.g. "create clusters"
  std::string_view sql;   // one or more statements; no PRAGMA or BEGIN/COMMIT
};

// Applies the migrations of module whose version is not recorded yet, in
// order, one transaction each (the SQL and its schema_migrations row commit
// together). Re-running is a no-op. Versions are trusted: a recorded
// version is never re-run even if its SQL changed. Fails with kInvalid on a
// badly ordered list and kConflict if the database holds a version newer
// than the list knows (an older binary on a newer database).
Status apply_migrations(Database& db, std::string_view module,
                        std::span<const Migration> migrations);

// The highest applied version of module, 0 if none.
Result<int64_t> schema_version(Database& db, std::string_view module);

}  // namespace berth::store
