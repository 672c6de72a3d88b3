#include "dedup_routes.hpp"

#include <map>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/testing/temp_dir.hpp>

#include "dedup_test_util.hpp"
#include "folder_artifact_store.hpp"
#include "hardlink_blob_store.hpp"
#include "sha256.hpp"

namespace runicorn::dedup {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using plugin::HttpRequest;
using plugin::HttpResponse;
using runicorn::testing::TempDir;
using test_util::write_file;
using ::testing::HasSubstr;

/// A route table that records what the plugin registers and dispatches by exact pattern.
/// Thread safety: externally synchronized.
class RecordingRoutes final : public plugin::HttpRoutes {
public:
    Status add_route(plugin::RouteSpec spec,
                     std::shared_ptr<plugin::RouteHandler> handler) override {
        const auto key = spec.method + " " + spec.pattern;
        if (!handlers.emplace(key, handler).second) {
            return Status::already_exists(key);
        }
        return Status::ok();
    }
    std::string base_url() const override { return ""; }

    /// Calls `method pattern` with the given path parameters, query and body.
    HttpResponse call(const std::string& method, const std::string& pattern,
                      plugin::HeaderList params = {}, plugin::HeaderList query = {},
                      std::string body = {}, plugin::HeaderList headers = {}) {
        HttpRequest req;
        req.method = method;
        req.path = pattern;
        req.path_params = std::move(params);
        req.query = std::move(query);
        req.body = std::move(body);
        req.headers = std::move(headers);
        const auto it = handlers.find(method + " " + pattern);
        EXPECT_NE(it, handlers.end()) << method << " " << pattern;
        return it == handlers.end() ? HttpResponse{} : it->second->handle(req);
    }

    std::map<std::string, std::shared_ptr<plugin::RouteHandler>> handlers;
};

json::value body_of(const HttpResponse& r) { return json::parse(r.body); }

class DedupRoutesTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(register_dedup_routes(routes_, blobs_, artifacts_, jobs_).is_ok());
    }
    int save(const std::string& content, std::vector<std::string> aliases = {}) {
        const auto src = dir_.path() / "src" / sha256_hex(content);
        write_file(src, content);
        plugin::ArtifactSaveRequest r;
        r.name = "resnet";
        r.type = "model";
        r.sources.push_back({src, "weights/model.pth"});
        r.aliases = std::move(aliases);
        auto v = artifacts_->save(r);
        EXPECT_TRUE(v.has_value()) << v.error();
        return v.has_value() ? v->version : 0;
    }
    fs::path root() const { return dir_.path() / "store"; }

    TempDir dir_;
    std::shared_ptr<HardlinkBlobStore> blobs_ = std::make_shared<HardlinkBlobStore>(root());
    std::shared_ptr<FolderArtifactStore> artifacts_ =
        std::make_shared<FolderArtifactStore>(root(), blobs_);
    std::shared_ptr<JobRegistry> jobs_ = std::make_shared<JobRegistry>();
    RecordingRoutes routes_;
};

TEST_F(DedupRoutesTest, RegistersEveryRouteOnce) {
    EXPECT_EQ(routes_.handlers.size(), 15U);
    RecordingRoutes again;
    EXPECT_TRUE(register_dedup_routes(again, blobs_, artifacts_, jobs_).is_ok());
    EXPECT_EQ(register_dedup_routes(again, blobs_, artifacts_, jobs_).code(),
              StatusCode::kAlreadyExists);
}

TEST_F(DedupRoutesTest, ListsArtifactsVersionsAndFiles) {
    save("one", {"production"});
    save("two!");
    auto list = routes_.call("GET", "/api/artifacts");
    ASSERT_EQ(list.status, 200U) << list.body;
    const auto l = body_of(list);
    EXPECT_EQ(l.at("artifacts").at(0).at("name").as_string(), "resnet");
    EXPECT_EQ(l.at("artifacts").at(0).at("latest_version").as_int64(), 2);
    EXPECT_EQ(l.at("artifacts").at(0).at("aliases").at("production").as_int64(), 1);
    EXPECT_TRUE(l.at("next_cursor").is_null());
    EXPECT_EQ(body_of(routes_.call("GET", "/api/artifacts", {}, {{"type", "dataset"}}))
                  .at("artifacts")
                  .as_array()
                  .size(),
              0U);

    auto one = routes_.call("GET", "/api/artifacts/:name", {{"name", "resnet"}});
    ASSERT_EQ(one.status, 200U);
    EXPECT_EQ(body_of(one).at("versions").as_array().size(), 2U);

    auto page = routes_.call("GET", "/api/artifacts/:name/versions", {{"name", "resnet"}},
                             {{"limit", "1"}});
    ASSERT_EQ(page.status, 200U);
    const auto p = body_of(page);
    EXPECT_EQ(p.at("versions").at(0).at("version").as_int64(), 2);
    EXPECT_EQ(p.at("next_cursor").as_string(), "2");
    auto next = routes_.call("GET", "/api/artifacts/:name/versions", {{"name", "resnet"}},
                             {{"limit", "1"}, {"cursor", "2"}});
    EXPECT_EQ(body_of(next).at("versions").at(0).at("version").as_int64(), 1);

    auto v = routes_.call("GET", "/api/artifacts/:name/versions/:ref",
                          {{"name", "resnet"}, {"ref", "production"}});
    ASSERT_EQ(v.status, 200U);
    EXPECT_EQ(body_of(v).at("version").as_int64(), 1);

    auto files = routes_.call("GET", "/api/artifacts/:name/versions/:ref/files",
                              {{"name", "resnet"}, {"ref", "latest"}}, {{"prefix", "weights/"}});
    ASSERT_EQ(files.status, 200U);
    EXPECT_EQ(body_of(files).at("files").at(0).at("sha256").as_string(), sha256_hex("two!"));
}

TEST_F(DedupRoutesTest, ServesFilesHashCheckedWithRangesAndZips) {
    save("0123456789");
    const plugin::HeaderList ref = {{"name", "resnet"}, {"ref", "v1"}};
    auto f = routes_.call("GET", "/api/artifacts/:name/versions/:ref/file", ref,
                          {{"path", "weights/model.pth"}});
    ASSERT_EQ(f.status, 200U) << f.body;
    EXPECT_EQ(f.body, "0123456789");
    auto part = routes_.call("GET", "/api/artifacts/:name/versions/:ref/file", ref,
                             {{"path", "weights/model.pth"}}, {}, {{"range", "bytes=2-4"}});
    EXPECT_EQ(part.status, 206U);
    EXPECT_EQ(part.body, "234");
    auto bad_range = routes_.call("GET", "/api/artifacts/:name/versions/:ref/file", ref,
                                  {{"path", "weights/model.pth"}}, {}, {{"range", "bytes=50-"}});
    EXPECT_EQ(bad_range.status, 416U);
    auto missing = routes_.call("GET", "/api/artifacts/:name/versions/:ref/file", ref,
                                {{"path", "../etc/passwd"}});
    EXPECT_EQ(missing.status, 404U);
    auto zip = routes_.call("GET", "/api/artifacts/:name/versions/:ref/download", ref);
    ASSERT_EQ(zip.status, 200U) << zip.body;
    EXPECT_EQ(zip.content_type, "application/zip");
    EXPECT_EQ(zip.body.substr(0, 2), "PK");
    EXPECT_THAT(zip.headers, ::testing::Contains(::testing::Pair(
                                 "Content-Disposition", "attachment; filename=\"resnet-v1.zip\"")));

    // A damaged blob is never served as valid.
    const auto blob = *blobs_->blob_path(sha256_hex("0123456789"));
    fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
    write_file(blob, "0123456780");
    auto damaged = routes_.call("GET", "/api/artifacts/:name/versions/:ref/file", ref,
                                {{"path", "weights/model.pth"}});
    EXPECT_EQ(damaged.status, 500U);
    EXPECT_EQ(body_of(damaged).at("code").as_string(), "BLOB_CORRUPT");
}

TEST_F(DedupRoutesTest, AliasesAndDeletionFollowTheApi) {
    save("one", {"production"});
    save("two!");
    const std::string alias_route = "/api/artifacts/:name/aliases/:alias";
    auto moved = routes_.call("PUT", alias_route, {{"name", "resnet"}, {"alias", "production"}}, {},
                              R"({"ref": "v2"})");
    ASSERT_EQ(moved.status, 200U) << moved.body;
    EXPECT_EQ(body_of(moved).at("previous_version").as_int64(), 1);
    auto reserved = routes_.call("PUT", alias_route, {{"name", "resnet"}, {"alias", "latest"}}, {},
                                 R"({"version": 1})");
    EXPECT_EQ(reserved.status, 400U);
    EXPECT_EQ(body_of(reserved).at("detail").as_string(), "Alias is reserved: latest");
    auto malformed =
        routes_.call("PUT", alias_route, {{"name", "resnet"}, {"alias", "best"}}, {}, "{not json");
    EXPECT_EQ(malformed.status, 400U);
    auto no_version = routes_.call("PUT", alias_route, {{"name", "resnet"}, {"alias", "best"}}, {},
                                   R"({"version": 9})");
    EXPECT_EQ(no_version.status, 404U);

    const std::string version_route = "/api/artifacts/:name/versions/:ref";
    auto unconfirmed = routes_.call("DELETE", version_route, {{"name", "resnet"}, {"ref", "v2"}});
    EXPECT_EQ(unconfirmed.status, 400U);
    auto conflict = routes_.call("DELETE", version_route, {{"name", "resnet"}, {"ref", "v2"}},
                                 {{"confirm", "true"}});
    EXPECT_EQ(conflict.status, 409U);
    EXPECT_EQ(body_of(conflict).at("code").as_string(), "VERSION_HAS_ALIASES");
    auto forced = routes_.call("DELETE", version_route, {{"name", "resnet"}, {"ref", "v2"}},
                               {{"confirm", "true"}, {"force", "true"}});
    ASSERT_EQ(forced.status, 200U) << forced.body;
    EXPECT_EQ(body_of(forced).at("removed_aliases").at(0).as_string(), "production");
    auto gone = routes_.call("DELETE", alias_route, {{"name", "resnet"}, {"alias", "production"}});
    EXPECT_EQ(gone.status, 404U);
    EXPECT_EQ(body_of(gone).at("detail").as_string(), "Alias not found");

    auto unknown = routes_.call("GET", "/api/artifacts/:name", {{"name", "nope"}});
    EXPECT_EQ(unknown.status, 404U);
    EXPECT_EQ(body_of(unknown).at("detail").as_string(), "Artifact not found");
    EXPECT_EQ(body_of(unknown).at("code").as_string(), "ARTIFACT_NOT_FOUND");
    auto bad_version = routes_.call("GET", version_route, {{"name", "resnet"}, {"ref", "v7"}});
    EXPECT_EQ(bad_version.status, 404U);
    EXPECT_EQ(body_of(bad_version).at("detail").as_string(), "Version not found");
    auto bad_limit = routes_.call("GET", "/api/artifacts", {}, {{"limit", "0"}});
    EXPECT_EQ(bad_limit.status, 422U);
}

TEST_F(DedupRoutesTest, LineageNamesTheRunsThatUsedAVersion) {
    save("one");
    write_file(root() / "runs" / "p" / "r1" / "status.json", R"({"status": "finished"})");
    write_file(root() / "runs" / "p" / "r1" / "meta.json", R"({"path": "p"})");
    ASSERT_TRUE(artifacts_->use("resnet:v1", "runs/p/r1").has_value());
    auto l = routes_.call("GET", "/api/artifacts/:name/versions/:ref/lineage",
                          {{"name", "resnet"}, {"ref", "v1"}});
    ASSERT_EQ(l.status, 200U) << l.body;
    const auto b = body_of(l);
    EXPECT_TRUE(b.at("produced_by").is_null());
    EXPECT_EQ(b.at("used_by").at(0).at("run_id").as_string(), "r1");
    EXPECT_EQ(b.at("used_by").at(0).at("status").as_string(), "finished");
    EXPECT_EQ(b.at("used_by").at(0).at("requested").as_string(), "resnet:v1");
}

TEST_F(DedupRoutesTest, StatsAndMaintenanceJobs) {
    save("one");
    auto stats = routes_.call("GET", "/api/blobs/stats");
    ASSERT_EQ(stats.status, 200U) << stats.body;
    const auto s = body_of(stats);
    EXPECT_EQ(s.at("blob_count").as_int64(), 1);
    EXPECT_EQ(s.at("by_referrer").at("artifacts").as_int64(), 3);

    auto gc = routes_.call("POST", "/api/maintenance/gc", {}, {},
                           R"({"dry_run": true, "grace_seconds": 0})");
    ASSERT_EQ(gc.status, 200U) << gc.body;
    const auto id = std::string(body_of(gc).at("job_id").as_string());
    jobs_->wait(id);
    auto job = routes_.call("GET", "/api/jobs/:job_id", {{"job_id", id}});
    ASSERT_EQ(job.status, 200U);
    const auto j = body_of(job);
    EXPECT_EQ(j.at("kind").as_string(), "gc");
    EXPECT_EQ(j.at("state").as_string(), "done") << job.body;
    EXPECT_EQ(j.at("result").at("blobs_scanned").as_int64(), 1);
    EXPECT_EQ(j.at("result").at("blobs_deleted").as_int64(), 0);

    auto verify = routes_.call("POST", "/api/maintenance/verify", {}, {}, R"({"sample": 1})");
    ASSERT_EQ(verify.status, 200U) << verify.body;
    const auto vid = std::string(body_of(verify).at("job_id").as_string());
    jobs_->wait(vid);
    const auto v = body_of(routes_.call("GET", "/api/jobs/:job_id", {{"job_id", vid}}));
    EXPECT_TRUE(v.at("result").at("ok").as_bool()) << json::serialize(v);
    EXPECT_EQ(v.at("result").at("blobs_hashed").as_int64(), 1);

    EXPECT_EQ(routes_.call("POST", "/api/maintenance/gc", {}, {}, R"({"dry_run": "yes"})").status,
              422U);
    EXPECT_EQ(routes_.call("GET", "/api/jobs/:job_id", {{"job_id", "nope"}}).status, 404U);
    jobs_->stop();
    EXPECT_EQ(routes_.call("POST", "/api/maintenance/gc").status, 503U);
}

}  // namespace
}  // namespace runicorn::dedup
