// What the secrets unit tests share: a store in memory, a manual clock, a
// fixed value key, and both stores on them.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "core/clock.h"
#include "secrets/parameter_store.h"
#include "secrets/secret_store.h"
#include "secrets/value_cipher.h"
#include "store/store.h"

namespace berth::secrets::testing {

inline constexpr std::string_view kAccount = "123456789012";

struct StoresFixture : ::testing::Test {
  void SetUp() override {
    auto d = store::Database::open(":memory:");
    ASSERT_TRUE(d.ok());
    db = std::make_unique<store::Database>(std::move(*d));
    ASSERT_TRUE(ParameterStore::migrate(*db).ok());
    ASSERT_TRUE(SecretStore::migrate(*db).ok());
    parameters = std::make_unique<ParameterStore>(*db, cipher, std::string(kAccount), "us-east-1");
    secrets = std::make_unique<SecretStore>(*db, cipher, std::string(kAccount), "us-east-1");
  }
  // Every byte SQLite keeps for these tables, as text: what a reader of the data dir would see.
  std::string raw_rows(std::string_view sql) {
    std::string out;
    auto s = db->read([&](store::Tx& tx) -> Status {
      auto stmt = tx.prepare(sql);
      if (!stmt) return std::move(stmt).error();
      for (;;) {
        auto row = stmt->step();
        if (!row) return std::move(row).error();
        if (!*row) return Ok{};
        for (int i = 0; i < stmt->column_count(); ++i) {
          auto blob = stmt->column_blob(i);
          out.append(reinterpret_cast<const char*>(blob.data()), blob.size());
          out += '|';
        }
      }
    });
    EXPECT_TRUE(s.ok());
    return out;
  }

  ManualClock clock{WallTime(std::chrono::seconds(1'700'000'000))};
  ValueCipher cipher{std::string(32, 'k')};
  std::unique_ptr<store::Database> db;
  std::unique_ptr<ParameterStore> parameters;
  std::unique_ptr<SecretStore> secrets;
};

}  // namespace berth::secrets::testing
