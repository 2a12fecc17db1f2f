#include "store/migrations.h"

#include <string>

#include "core/log.h"

namespace berth::store {

Result<int64_t> schema_version(Database& db, std::string_view module) {
  return db.read([&](Tx& tx) -> Result<int64_t> {
    auto stmt = tx.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE module = ?");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind_text(1, module);
    auto row = stmt->step();
    if (!row.ok()) return std::move(row).error();
    return stmt->column_int64(0);
  });
}

Status apply_migrations(Database& db, std::string_view module,
                        std::span<const Migration> migrations) {
  int64_t previous = 0;
  for (const auto& m : migrations) {
    if (m.version <= previous) {
      return Error::invalid("InvalidMigration", "migrations of " + std::string(module) +
                                                    " must have increasing versions > 0, got " +
                                                    std::to_string(m.version) + " after " +
                                                    std::to_string(previous));
    }
    previous = m.version;
  }
  auto current = schema_version(db, module);
  if (!current.ok()) return std::move(current).error();
  if (*current > previous) {
    return Error::conflict("SchemaTooNew", "database has " + std::string(module) + " schema version " +
                                               std::to_string(*current) + ", this build knows up to " +
                                               std::to_string(previous));
  }
  for (const auto& m : migrations) {
    // Checked per migration inside its transaction, so two processes (or a
    // list with gaps filled in later) never apply one twice.
    bool applied = false;
    Status status = db.transaction([&](Tx& tx) -> Status {
      auto stmt = tx.prepare("SELECT 1 FROM schema_migrations WHERE module = ? AND version = ?");
      if (!stmt.ok()) return std::move(stmt).error();
      stmt->bind_all(module, m.version);
      auto row = stmt->step();
      if (!row.ok()) return std::move(row).error();
      if (*row) return Ok{};
      if (auto s = tx.exec(m.sql); !s.ok()) {
        Error e = std::move(s).error();
        e.message = std::string(module) + " migration " + std::to_string(m.version) + " (" +
                    std::string(m.name) + "): " + e.message;
        return e;
      }
      applied = true;
      return tx.run("INSERT INTO schema_migrations(module, version, name) VALUES (?, ?, ?)", module,
                    m.version, m.name);
    });
    if (!status.ok()) return status;
    if (applied) log::info("store", "applied migration ", module, " ", m.version, " ", m.name);
  }
  return Ok{};
}

}  // namespace berth::store
