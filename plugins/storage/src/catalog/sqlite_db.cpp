#include "sqlite_db.hpp"

#include <type_traits>

#include <sqlite3.h>

namespace runicorn::storage::catalog {

Statement::~Statement() {
    if (stmt_ != nullptr) {
        sqlite3_finalize(stmt_);
    }
}

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
}

void Statement::bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}
void Statement::bind_static(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}
void Statement::bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
void Statement::bind(int index, double value) { sqlite3_bind_double(stmt_, index, value); }
void Statement::bind_null(int index) { sqlite3_bind_null(stmt_, index); }
void Statement::bind(int index, const std::optional<std::string>& value) {
    value ? bind(index, std::string_view(*value)) : bind_null(index);
}
void Statement::bind(int index, const std::optional<double>& value) {
    value ? bind(index, *value) : bind_null(index);
}
void Statement::bind(int index, const std::optional<std::int64_t>& value) {
    value ? bind(index, *value) : bind_null(index);
}

void Statement::bind_all(const std::vector<SqlValue>& values) {
    int i = 1;
    for (const auto& v : values) {
        std::visit(
            [&](const auto& x) {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<T, std::nullptr_t>) {
                    bind_null(i);
                } else if constexpr (std::is_same_v<T, std::string>) {
                    bind(i, std::string_view(x));
                } else {
                    bind(i, x);
                }
            },
            v);
        ++i;
    }
}

Result<bool> Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    std::string msg = "SQLite error " + std::to_string(rc) + " (" + sqlite3_errmsg(db_) +
                      ") running: " + sqlite3_sql(stmt_);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        return Status::unavailable(std::move(msg));
    }
    return Status::internal(std::move(msg));
}

Status Statement::run() {
    for (;;) {
        auto more = step();
        if (!more) {
            return more.error();
        }
        if (!*more) {
            return Status::ok();
        }
    }
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
ColumnType Statement::column_type(int col) const {
    switch (sqlite3_column_type(stmt_, col)) {
        case SQLITE_INTEGER:
            return ColumnType::kInteger;
        case SQLITE_FLOAT:
            return ColumnType::kReal;
        case SQLITE_TEXT:
            return ColumnType::kText;
        case SQLITE_BLOB:
            return ColumnType::kBlob;
        default:
            return ColumnType::kNull;
    }
}
std::int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::real(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Statement::text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}
std::optional<std::string> Statement::opt_text(int col) const {
    return is_null(col) ? std::nullopt : std::optional<std::string>(text(col));
}
std::optional<double> Statement::opt_real(int col) const {
    return is_null(col) ? std::nullopt : std::optional<double>(real(col));
}
std::optional<std::int64_t> Statement::opt_int64(int col) const {
    return is_null(col) ? std::nullopt : std::optional<std::int64_t>(int64(col));
}

Result<std::unique_ptr<Database>> Database::open(const std::string& file) {
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(file.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<Database> db(new Database(raw));
    if (rc != SQLITE_OK) {
        const std::string why = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
        if (rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY || rc == SQLITE_PERM) {
            return Status::permission_denied("cannot open the catalog '" + file + "': " + why);
        }
        return Status::internal("cannot open the catalog '" + file + "': " + why);
    }
    sqlite3_busy_timeout(raw, 5000);
    RUNICORN_RETURN_IF_ERROR(
        db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                 "PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=67108864;"));
    return db;
}

Database::~Database() {
    if (db_ != nullptr) {
        sqlite3_close_v2(db_);
    }
}

Status Database::exec(std::string_view sql) {
    char* err = nullptr;
    const std::string text(sql);
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (rc == SQLITE_OK) {
        return Status::ok();
    }
    std::string msg = "SQLite error " + std::to_string(rc) + " (" +
                      (err != nullptr ? err : sqlite3_errstr(rc)) + ") running: " + text;
    sqlite3_free(err);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        return Status::unavailable(std::move(msg));
    }
    return Status::internal(std::move(msg));
}

Result<Statement> Database::prepare(std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    const int rc =
        sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) {
        return Status::internal("SQLite error " + std::to_string(rc) + " (" + sqlite3_errmsg(db_) +
                                ") preparing: " + std::string(sql));
    }
    return Statement(db_, stmt);
}

std::string Database::last_error() const { return sqlite3_errmsg(db_); }

Transaction::Transaction(Database& db) : db_(db) {
    status_ = db_.exec("BEGIN IMMEDIATE");
    open_ = status_.is_ok();
}

Transaction::~Transaction() {
    if (open_) {
        (void)db_.exec("ROLLBACK");
    }
}

Status Transaction::commit() {
    if (!open_) {
        return status_.is_ok() ? Status::failed_precondition("transaction already finished")
                               : status_;
    }
    Status s = db_.exec("COMMIT");
    open_ = !s.is_ok() ? open_ : false;
    return s;
}

}  // namespace runicorn::storage::catalog
