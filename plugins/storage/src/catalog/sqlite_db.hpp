#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <runicorn/result.hpp>

struct sqlite3;
struct sqlite3_stmt;

namespace runicorn::storage::catalog {

/// A value to bind to a statement parameter.
using SqlValue = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

/// What a result column holds in the current row.
enum class ColumnType { kInteger, kReal, kText, kBlob, kNull };

/// A prepared statement: bind, step, read columns; reset() to run it again.
/// Thread safety: externally synchronized.
class Statement {
public:
    Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    ~Statement();
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    /// Binds by 1-based index. Strings are copied by SQLite.
    void bind(int index, std::string_view text);
    /// Binds without copying: `text` must stay valid until the statement is reset or stepped to
    /// completion.
    void bind_static(int index, std::string_view text);
    void bind(int index, std::int64_t value);
    void bind(int index, double value);
    void bind_null(int index);
    void bind(int index, const std::optional<std::string>& value);
    void bind(int index, const std::optional<double>& value);
    void bind(int index, const std::optional<std::int64_t>& value);
    /// Binds values[i] to parameter i + 1 (copies of the strings).
    void bind_all(const std::vector<SqlValue>& values);

    /// Advances: true for a row, false when done; errors come back as a Status naming the SQL.
    Result<bool> step();
    /// Runs to completion (for statements without rows).
    Status run();
    void reset();

    bool is_null(int col) const;
    ColumnType column_type(int col) const;
    std::int64_t int64(int col) const;
    double real(int col) const;
    std::string text(int col) const;
    std::optional<std::string> opt_text(int col) const;
    std::optional<double> opt_real(int col) const;
    std::optional<std::int64_t> opt_int64(int col) const;

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_;
};

/// One SQLite connection in WAL mode with a busy timeout (FORMAT.md §7.4).
/// Thread safety: externally synchronized (one connection per thread).
class Database {
public:
    /// Opens (creating) the file; ":memory:" for tests. Applies WAL, synchronous=NORMAL,
    /// busy_timeout=5000, foreign_keys=ON.
    static Result<std::unique_ptr<Database>> open(const std::string& file);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    Database(Database&&) = delete;
    Database& operator=(Database&&) = delete;

    Status exec(std::string_view sql);
    Result<Statement> prepare(std::string_view sql);
    std::string last_error() const;

private:
    explicit Database(sqlite3* db) : db_(db) {}
    sqlite3* db_;
};

/// BEGIN IMMEDIATE on construction; rolls back in the destructor unless commit() succeeded.
/// Thread safety: externally synchronized.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    Transaction(Transaction&&) = delete;
    Transaction& operator=(Transaction&&) = delete;

    const Status& status() const { return status_; }
    Status commit();

private:
    Database& db_;
    Status status_;
    bool open_ = false;
};

}  // namespace runicorn::storage::catalog
