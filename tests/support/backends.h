// The store backends the store and e2e tests run on (TEST_P): SQLite on a file in the test's
// directory, PostgreSQL on a fresh database of the throwaway cluster the test process starts
// (pg_cluster.h).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "pg_cluster.h"
#include "tundra/sql/db.h"

namespace tundra::test {

inline std::vector<sql::Backend> store_backends() { return {sql::Backend::sqlite, sql::Backend::postgres}; }

// What a store on `b` is opened from: a file in `dir`, or a fresh database's URI.
inline std::string store_target(sql::Backend b, const std::filesystem::path& dir) {
    switch (b) {
        case sql::Backend::sqlite: return (dir / "s.db").string();
        case sql::Backend::postgres: return fresh_database();
    }
    return {};
}

// Test names: Backends/Round.Pull/SQLite, Backends/Round.Pull/PostgreSQL.
struct BackendName {
    std::string operator()(const ::testing::TestParamInfo<sql::Backend>& info) const {
        return info.param == sql::Backend::sqlite ? "SQLite" : "PostgreSQL";
    }
};

}  // namespace tundra::test

namespace tundra::sql {
// How gtest prints a parameter in a failure ("where GetParam() = PostgreSQL").
inline void PrintTo(Backend b, std::ostream* os) { *os << (b == Backend::sqlite ? "SQLite" : "PostgreSQL"); }
}  // namespace tundra::sql

// Runs a StoreFixture suite on every backend.
#define TUNDRA_STORE_BACKENDS(Suite) \
    INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::ValuesIn(::tundra::test::store_backends()), \
                             ::tundra::test::BackendName())
