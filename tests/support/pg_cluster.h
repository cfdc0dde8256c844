// A throwaway PostgreSQL cluster for tests (issue 12): one per test process, started on first
// use (initdb + pg_ctl from /usr/lib/postgresql/15/bin, data and Unix socket in a temp dir,
// no TCP listener), run as the `postgres` user when the tests run as root (initdb and
// postgres refuse root), stopped and removed when the process exits — or, if the process
// dies, by a watchdog that notices. fsync is off: the data is thrown away.
#pragma once

#include <cstdlib>
#include <string>

namespace tundra::test {

// Empty when the cluster can be used; otherwise why not (binaries missing, initdb failed).
// Starts the cluster on first call.
std::string pg_unavailable();

// A new empty database on the cluster and its URI:
// postgresql:///t_<n>?host=<socket dir>&user=postgres. Throws std::runtime_error when the
// cluster cannot start.
std::string fresh_database();

// The cluster's superuser connection to its `postgres` database (administration in tests).
std::string admin_uri();

}  // namespace tundra::test

// In a test: skip when PostgreSQL is not installed — except under CI=true, where the
// PostgreSQL suite must run, so a missing cluster fails.
#define TUNDRA_REQUIRE_PG()                                                                \
    do {                                                                                   \
        std::string tundra_pg_why_ = ::tundra::test::pg_unavailable();                     \
        if (!tundra_pg_why_.empty()) {                                                     \
            const char* tundra_ci_ = std::getenv("CI");                                    \
            if (tundra_ci_ && std::string(tundra_ci_) == "true") FAIL() << tundra_pg_why_; \
            GTEST_SKIP() << tundra_pg_why_;                                                \
        }                                                                                  \
    } while (0)
