#include "v06_index.hpp"

#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <gtest/gtest.h>

#include "catalog/sqlite_db.hpp"
#include "folder_run_store.hpp"
#include "run_writer.hpp"
#include "storage_test_util.hpp"

namespace runicorn::storage {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using catalog::Database;
using plugin::RunCreateOptions;
using plugin::RunJsonFile;
using testing::TempDir;

std::unique_ptr<Database> open_db(const fs::path& file) {
    auto db = Database::open(file.string());
    EXPECT_TRUE(db.has_value()) << file;
    return db.has_value() ? std::move(*db) : nullptr;
}

/// One text cell of the first row of `sql`, or "<none>".
std::string scalar(Database& db, const std::string& sql) {
    auto stmt = db.prepare(sql);
    if (!stmt.has_value()) {
        return "<error>";
    }
    auto row = stmt->step();
    if (!row.has_value() || !*row) {
        return "<none>";
    }
    return stmt->is_null(0) ? "<null>" : stmt->text(0);
}

/// `name: sql` of every table and index, in name order (the schema as sqlite_master keeps it).
std::vector<std::string> schema_of(Database& db) {
    std::vector<std::string> out;
    auto stmt =
        db.prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name");
    EXPECT_TRUE(stmt.has_value());
    while (stmt.has_value()) {
        auto row = stmt->step();
        if (!row.has_value() || !*row) {
            break;
        }
        std::string sql = stmt->text(1);
        // v0.6 may have used CREATE ... IF NOT EXISTS or not; SQLite stores what was given.
        for (const std::string word : {"IF NOT EXISTS "}) {
            if (auto at = sql.find(word); at != std::string::npos) {
                sql.erase(at, word.size());
            }
        }
        out.push_back(stmt->text(0) + ": " + sql);
    }
    return out;
}

TEST(V06IndexTest, CreatesExactlyRunicorn06sSchemaInWalMode) {
    TempDir tmp;
    V06RunRow row;
    row.run_id = "20260101_000000_abcdef";
    row.path = "cv/resnet";
    row.created_at = 1.5;
    row.run_dir = (tmp.path() / "runs/cv/resnet/20260101_000000_abcdef").string();
    row.workspace_root = "/ws";
    RUNICORN_ASSERT_OK(V06Index::upsert_run(tmp.path(), row));

    auto ours = open_db(V06Index::file_of(tmp.path()));
    TempDir ref;
    testing::copy_fixture_store(ref.path());
    auto theirs = open_db(V06Index::file_of(ref.path()));
    ASSERT_TRUE(ours && theirs);
    EXPECT_EQ(schema_of(*ours), schema_of(*theirs));
    EXPECT_EQ(scalar(*ours, "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(scalar(*ours,
                     "SELECT path || '|' || status || '|' || run_dir || '|' || "
                     "workspace_root FROM runs"),
              "cv/resnet|running|" + row.run_dir + "|/ws");
    EXPECT_EQ(scalar(*ours, "SELECT quote(alias) || quote(ended_at) FROM runs"), "NULLNULL");
    EXPECT_TRUE(fs::exists(tmp.path() / "index" / "runicorn.db.lock"));
}

TEST(V06IndexTest, StatusAliasAndDeleteFollowTheRules) {
    TempDir tmp;
    testing::copy_fixture_store(tmp.path());
    const fs::path file = V06Index::file_of(tmp.path());
    const std::string kitchen = "20250115_100000_6cefa5";  // shares a dataset manifest
    const std::string other = "20250115_101500_df538c";
    {
        auto db = open_db(file);
        ASSERT_TRUE(db);
        EXPECT_EQ(scalar(*db, "SELECT count(*) FROM runs"), "12");
    }
    RUNICORN_ASSERT_OK(V06Index::set_alias(tmp.path(), other, std::string("renamed")));
    RUNICORN_ASSERT_OK(V06Index::set_status(tmp.path(), other, "failed", 42.5));
    RUNICORN_ASSERT_OK(V06Index::set_alias(tmp.path(), kitchen, std::nullopt));
    RUNICORN_ASSERT_OK(V06Index::set_status(tmp.path(), "no_such_run", "failed", 1.0));

    auto db = open_db(file);
    ASSERT_TRUE(db);
    EXPECT_EQ(scalar(*db,
                     "SELECT alias || '|' || status || '|' || ended_at FROM runs WHERE "
                     "run_id = '" +
                         other + "'"),
              "renamed|failed|42.5");
    EXPECT_EQ(scalar(*db, "SELECT quote(alias) FROM runs WHERE run_id = '" + kitchen + "'"),
              "NULL");
    EXPECT_EQ(scalar(*db, "SELECT count(*) FROM runs"), "12");

    // Deleting a run drops its links and the assets only it used; shared assets stay.
    const std::string shared_before =
        scalar(*db,
               "SELECT count(*) FROM assets a WHERE (SELECT count(DISTINCT run_id) FROM run_assets "
               "r WHERE r.asset_id = a.asset_id) > 1");
    const std::string total_before = scalar(*db, "SELECT count(*) FROM assets");
    const std::string only_kitchen =
        scalar(*db,
               "SELECT count(*) FROM assets a WHERE NOT EXISTS (SELECT 1 FROM run_assets r WHERE "
               "r.asset_id = a.asset_id AND r.run_id <> '" +
                   kitchen + "')");
    db.reset();
    RUNICORN_ASSERT_OK(V06Index::delete_run(tmp.path(), kitchen));
    db = open_db(file);
    ASSERT_TRUE(db);
    EXPECT_EQ(scalar(*db, "SELECT count(*) FROM runs WHERE run_id = '" + kitchen + "'"), "0");
    EXPECT_EQ(scalar(*db, "SELECT count(*) FROM run_assets WHERE run_id = '" + kitchen + "'"), "0");
    EXPECT_EQ(std::stoi(scalar(*db, "SELECT count(*) FROM assets")),
              std::stoi(total_before) - std::stoi(only_kitchen));
    EXPECT_GT(std::stoi(only_kitchen), 0);
    EXPECT_EQ(scalar(*db,
                     "SELECT count(*) FROM assets WHERE asset_id NOT IN (SELECT asset_id "
                     "FROM run_assets)"),
              "0");
    EXPECT_FALSE(shared_before.empty());
}

TEST(V06IndexTest, UpdatesNeverCreateTheFile) {
    TempDir tmp;
    RUNICORN_ASSERT_OK(V06Index::set_alias(tmp.path(), "x", std::string("a")));
    RUNICORN_ASSERT_OK(V06Index::set_status(tmp.path(), "x", "finished", 1.0));
    RUNICORN_ASSERT_OK(V06Index::delete_run(tmp.path(), "x"));
    EXPECT_FALSE(fs::exists(V06Index::file_of(tmp.path())));
}

TEST(V06IndexTest, AnUnusableIndexIsAnErrorNamingTheFile) {
    TempDir tmp;
    fs::create_directories(tmp.path() / "index" / "runicorn.db");  // a directory, not a file
    V06RunRow row;
    row.run_id = "r1";
    row.run_dir = "/x";
    const Status s = V06Index::upsert_run(tmp.path(), row);
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("runicorn.db"), std::string::npos) << s.message();
}

TEST(V06IndexWriterTest, SdkRunsAreRegisteredAndFollowTheirStatus) {
    TempDir tmp;
    RunCreateOptions o;
    o.path = "nlp/bert";
    o.alias = "first";
    o.writer = "runicorn-cpp/test cpp";
    auto w = FolderRunWriter::open(tmp.path(), o, nullptr);
    ASSERT_TRUE(w.has_value()) << w.error().message();
    const std::string id = (*w)->run_id();
    {
        auto db = open_db(V06Index::file_of(tmp.path()));
        ASSERT_TRUE(db);
        EXPECT_EQ(scalar(*db,
                         "SELECT path || '|' || alias || '|' || status || '|' || run_dir "
                         "FROM runs WHERE run_id = '" +
                             id + "'"),
                  "nlp/bert|first|running|" + (*w)->run_dir().string());
    }
    RUNICORN_ASSERT_OK((*w)->merge_json(RunJsonFile::kStatus,
                                        json::object{{"status", "finished"}, {"ended_at", 7.25}}));
    RUNICORN_ASSERT_OK((*w)->close());
    auto db = open_db(V06Index::file_of(tmp.path()));
    ASSERT_TRUE(db);
    EXPECT_EQ(scalar(*db, "SELECT status || '|' || ended_at FROM runs WHERE run_id = '" + id + "'"),
              "finished|7.25");

    // A resume sets it back to running and clears ended_at.
    RunCreateOptions again = o;
    again.run_id = id;
    again.alias.reset();
    again.resume = RunCreateOptions::Resume::kMust;
    auto w2 = FolderRunWriter::open(tmp.path(), again, nullptr);
    ASSERT_TRUE(w2.has_value()) << w2.error().message();
    EXPECT_EQ(scalar(*db,
                     "SELECT status || '|' || quote(ended_at) || '|' || alias FROM runs "
                     "WHERE run_id = '" +
                         id + "'"),
              "running|NULL|first");
}

TEST(V06IndexWriterTest, TurnedOffWritesNothingAndABrokenIndexNeverFailsARun) {
    TempDir tmp;
    RunCreateOptions o;
    o.writer = "runicorn-cpp/test cpp";
    auto w = FolderRunWriter::open(tmp.path(), o, nullptr, /*write_v06_index=*/false);
    ASSERT_TRUE(w.has_value());
    RUNICORN_ASSERT_OK(
        (*w)->merge_json(RunJsonFile::kStatus, json::object{{"status", "finished"}}));
    EXPECT_FALSE(fs::exists(V06Index::file_of(tmp.path())));

    TempDir broken;
    fs::create_directories(broken.path() / "index" / "runicorn.db");
    auto w2 = FolderRunWriter::open(broken.path(), o, nullptr);
    ASSERT_TRUE(w2.has_value()) << w2.error().message();
    RUNICORN_EXPECT_OK(
        (*w2)->merge_json(RunJsonFile::kStatus, json::object{{"status", "finished"}}));
}

TEST(V06IndexStoreTest, PatchAliasAndPurgeKeepTheIndexConsistent) {
    TempDir tmp;
    testing::copy_fixture_store(tmp.path());
    FolderRunStore::Options options;
    options.catalog_file = ":memory:";
    options.check_liveness = false;
    FolderRunStore store(tmp.path(), nullptr, options);
    const std::string id = "20250115_123000_6e554c";  // the soft-deleted run of the fixture
    const std::string live = "20250115_101500_df538c";
    plugin::RunUpdate update;
    update.alias = std::optional<std::string>("  best  ");
    ASSERT_TRUE(store.update_run(live, update).has_value());
    RUNICORN_ASSERT_OK(store.purge(id));
    auto db = open_db(V06Index::file_of(tmp.path()));
    ASSERT_TRUE(db);
    EXPECT_EQ(scalar(*db, "SELECT alias FROM runs WHERE run_id = '" + live + "'"), "best");
    EXPECT_EQ(scalar(*db, "SELECT count(*) FROM runs WHERE run_id = '" + id + "'"), "0");
}

}  // namespace
}  // namespace runicorn::storage
