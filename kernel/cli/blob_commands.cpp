#include "blob_commands.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

#include <boost/json.hpp>

#include <runicorn/plugin/artifact_store.hpp>
#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/plugin/locales.hpp>

#include "cli_messages.hpp"
#include "display_width.hpp"

namespace runicorn::cli {
namespace json = boost::json;
using plugin::ArtifactStore;
using plugin::BlobStore;

namespace {

/// A plugin state ("loaded", "refused", "disabled") in the user's language.
std::string state_text(const std::string& state) {
    if (state == "loaded") {
        return tr("state.loaded");
    }
    if (state == "refused") {
        return tr("state.refused");
    }
    if (state == "disabled") {
        return tr("state.disabled");
    }
    return state;
}

/// "N <noun>" with the plural form for N, e.g. count_text("dedup.n_blobs", 1) is "1 blob".
std::string count_text(std::string_view key, std::uint64_t count) {
    return tr_n(key, static_cast<std::int64_t>(count));
}

/// The services of the dedup plugin. Members are released before the host that loaded them.
/// Thread safety: externally synchronized.
struct DedupSession {
    Session session;
    std::shared_ptr<BlobStore> blobs;
    std::shared_ptr<ArtifactStore> artifacts;
};

Result<DedupSession> open_dedup(const GlobalOptions& g) {
    DedupSession s;
    RUNICORN_ASSIGN_OR_RETURN(
        s.session, open_session(g, spdlog::level::warn, {}, std::vector<std::string>{"dedup"}));
    auto& host = *s.session.host;
    host.load();
    host.init();  // no start(): a one-shot command needs no threads
    s.blobs = host.find<BlobStore>();
    s.artifacts = host.find<ArtifactStore>();
    if (s.blobs == nullptr || s.artifacts == nullptr) {
        for (const auto& r : host.reports()) {
            if (r.id == "dedup" && !r.error.empty()) {
                return Status::unavailable(tr(
                    "dedup.plugin_refused", {{"state", state_text(r.state)}, {"reason", r.error}}));
            }
        }
        return Status::unavailable(tr("dedup.no_plugin"));
    }
    return s;
}

/// Exit code of a failed operation: 2 for bad input, 1 otherwise.
int fail_status(const Status& s) {
    return fail(s.message(), s.code() == StatusCode::kInvalidArgument ? 2 : 1);
}

std::string bytes_text(std::uint64_t n) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = static_cast<double>(n);
    std::size_t unit = 0;
    while (v >= 1024 && unit + 1 < std::size(kUnits)) {
        v /= 1024;
        ++unit;
    }
    char buf[32];
    if (unit == 0) {
        std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(n));
    } else {
        std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[unit]);
    }
    return buf;
}

std::string time_text(double epoch) {
    if (epoch <= 0) {
        return "-";
    }
    const auto t = static_cast<std::time_t>(std::floor(epoch));
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

void print_json(const json::value& v) { std::cout << json::serialize(v) << "\n"; }

/// Prints rows as left-aligned columns (display width aware), two spaces apart.
void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()), 0);
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], display_width(row[i]));
        }
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                line.append(widths[i] - display_width(row[i]) + 2, ' ');
            }
        }
        std::cout << line << "\n";
    }
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        out += (out.empty() ? "" : ", ") + i;
    }
    return out;
}

int run_gc(const GlobalOptions& g, bool dry_run, std::int64_t grace, bool as_json) {
    if (grace < 0) {
        return fail(tr("dedup.bad_grace"), 2);
    }
    auto s = open_dedup(g);
    if (!s) {
        return fail(s.error().message(), 2);
    }
    plugin::GcOptions o;
    o.dry_run = dry_run;
    o.grace = std::chrono::seconds(grace);
    auto r = s->blobs->gc(o);
    if (!r) {
        return fail(r.error().message(), 1);
    }
    if (as_json) {
        json::object out;
        out["dry_run"] = r->dry_run;
        out["blobs_scanned"] = r->blobs_found;
        out["blobs_referenced"] = r->blobs_referenced;
        out["blobs_young"] = r->blobs_young;
        out["blobs_deleted"] = r->blobs_removed.size();
        out["manifests_deleted"] = r->manifests_removed.size();
        out["temp_removed"] = r->temp_files_removed.size();
        out["bytes_freed"] = r->bytes_freed;
        json::array blobs;
        for (const auto& b : r->blobs_removed) {
            blobs.emplace_back(b);
        }
        out["blobs"] = std::move(blobs);
        json::array manifests;
        for (const auto& m : r->manifests_removed) {
            manifests.emplace_back(m);
        }
        out["manifests"] = std::move(manifests);
        json::array unexpected;
        for (const auto& u : r->unexpected) {
            unexpected.emplace_back(u);
        }
        out["unexpected"] = std::move(unexpected);
        print_json(out);
        return 0;
    }
    const json::object vars = {
        {"blobs", count_text("dedup.n_blobs", r->blobs_removed.size())},
        {"bytes", bytes_text(r->bytes_freed)},
        {"manifests", count_text("dedup.n_manifests", r->manifests_removed.size())},
        {"temps", count_text("dedup.n_temp_files", r->temp_files_removed.size())},
        {"found", count_text("dedup.n_blobs", r->blobs_found)},
        {"referenced", r->blobs_referenced},
        {"young", r->blobs_young}};
    if (r->dry_run) {
        for (const auto& b : r->blobs_removed) {
            std::cout << tr("dedup.gc_would_remove", {{"sha", b}}) << "\n";
        }
        std::cout << tr("dedup.gc_dry_summary", vars) << "\n";
    } else {
        std::cout << tr("dedup.gc_summary", vars) << "\n";
    }
    for (const auto& u : r->unexpected) {
        std::cout << tr("dedup.gc_unexpected", {{"path", u}}) << "\n";
    }
    return 0;
}

int run_verify(const GlobalOptions& g, std::uint64_t sample, bool repair, bool as_json) {
    auto s = open_dedup(g);
    if (!s) {
        return fail(s.error().message(), 2);
    }
    plugin::VerifyOptions o;
    o.sample = sample;
    o.repair = repair;
    auto r = s->blobs->verify(o);
    if (!r) {
        return fail(r.error().message(), 2);
    }
    const int code = r->problems.empty() ? 0 : 1;
    if (as_json) {
        json::object out;
        out["ok"] = r->problems.empty();
        out["blobs_found"] = r->blobs_found;
        out["blobs_hashed"] = r->blobs_hashed;
        out["references_checked"] = r->references_checked;
        out["orphans"] = r->orphans;
        json::array problems;
        for (const auto& p : r->problems) {
            json::array referrers;
            for (const auto& ref : p.referrers) {
                referrers.emplace_back(ref);
            }
            problems.push_back({{"kind", p.kind},
                                {"object", p.object},
                                {"detail", p.detail},
                                {"referrers", std::move(referrers)},
                                {"quarantined", p.quarantined}});
        }
        out["problems"] = std::move(problems);
        print_json(out);
        return code;
    }
    for (const auto& p : r->problems) {
        std::cout << p.kind << " " << p.object << ": " << p.detail;
        if (!p.referrers.empty()) {
            std::cout << tr("dedup.verify_used_by", {{"list", join(p.referrers)}});
        }
        if (p.quarantined) {
            std::cout << tr("dedup.verify_quarantined");
        }
        std::cout << "\n";
    }
    const json::object vars = {{"found", count_text("dedup.n_blobs", r->blobs_found)},
                               {"hashed", r->blobs_hashed},
                               {"refs", count_text("dedup.n_references", r->references_checked)},
                               {"orphans", r->orphans}};
    if (code == 0) {
        std::cout << tr("dedup.verify_clean", vars) << "\n";
    } else {
        std::cout << tr_n("dedup.verify_problems", static_cast<std::int64_t>(r->problems.size()),
                          vars)
                  << "\n";
    }
    return code;
}

int run_du(const GlobalOptions& g, bool as_json) {
    auto s = open_dedup(g);
    if (!s) {
        return fail(s.error().message(), 2);
    }
    auto u = s->blobs->usage();
    if (!u) {
        return fail(u.error().message(), 1);
    }
    if (as_json) {
        const double ratio = u->blobs.bytes_stored == 0
                                 ? 1.0
                                 : static_cast<double>(u->bytes_referenced) /
                                       static_cast<double>(u->blobs.bytes_stored);
        print_json(json::object{{"blob_count", u->blobs.blob_count},
                                {"physical_bytes", u->blobs.bytes_stored},
                                {"references", u->references},
                                {"referenced_bytes", u->bytes_referenced},
                                {"saved_bytes", u->bytes_saved_by_dedup},
                                {"saved_by_links_bytes", u->blobs.bytes_saved_by_links},
                                {"dedup_ratio", ratio},
                                {"temp_files", u->blobs.temp_files}});
        return 0;
    }
    print_table({{tr("dedup.du_blobs"), std::to_string(u->blobs.blob_count)},
                 {tr("dedup.du_stored"), bytes_text(u->blobs.bytes_stored)},
                 {tr("dedup.du_referenced"),
                  bytes_text(u->bytes_referenced) + " (" + std::to_string(u->references) + ")"},
                 {tr("dedup.du_saved"), bytes_text(u->bytes_saved_by_dedup)},
                 {tr("dedup.du_links"), bytes_text(u->blobs.bytes_saved_by_links)}});
    return 0;
}

int run_artifacts_ls(const ArtifactStore& store, bool as_json) {
    auto list = store.list();
    if (!list) {
        return fail_status(list.error());
    }
    if (as_json) {
        json::array items;
        for (const auto& a : *list) {
            items.push_back(plugin::to_json(a));
        }
        print_json(json::object{{"artifacts", std::move(items)}});
        return 0;
    }
    if (list->empty()) {
        std::cout << tr("dedup.no_artifacts") << "\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows = {{tr("dedup.col_name"), tr("dedup.col_type"),
                                                   tr("dedup.col_latest"), tr("dedup.col_versions"),
                                                   tr("dedup.col_aliases"), tr("dedup.col_size"),
                                                   tr("dedup.col_updated")}};
    for (const auto& a : *list) {
        std::vector<std::string> aliases;
        for (const auto& [alias, n] : a.aliases) {
            aliases.push_back(alias + "=v" + std::to_string(n));
        }
        rows.push_back({a.name, a.type,
                        a.latest_version > 0 ? "v" + std::to_string(a.latest_version) : "-",
                        std::to_string(a.version_count), aliases.empty() ? "-" : join(aliases),
                        bytes_text(a.total_size_bytes), time_text(a.updated_at)});
    }
    print_table(rows);
    return 0;
}

void print_versions(const std::vector<plugin::ArtifactVersionInfo>& versions) {
    std::vector<std::vector<std::string>> rows = {{tr("dedup.col_version"), tr("dedup.col_aliases"),
                                                   tr("dedup.col_files"), tr("dedup.col_size"),
                                                   tr("dedup.col_created"), tr("dedup.col_run"),
                                                   tr("dedup.col_digest")}};
    for (const auto& v : versions) {
        std::vector<std::string> aliases = v.aliases;
        if (v.latest) {
            aliases.insert(aliases.begin(), "latest");
        }
        rows.push_back({"v" + std::to_string(v.version), aliases.empty() ? "-" : join(aliases),
                        std::to_string(v.file_count), bytes_text(v.total_size_bytes),
                        time_text(v.created_at), v.produced_by ? v.produced_by->run_id : "-",
                        v.digest.substr(0, 12)});
    }
    print_table(rows);
}

int run_artifacts_show(const ArtifactStore& store, const std::string& name, bool as_json) {
    auto info = store.info(name);
    if (!info) {
        return fail_status(info.error());
    }
    auto versions = store.versions(name);
    if (!versions) {
        return fail_status(versions.error());
    }
    if (as_json) {
        auto out = plugin::to_json(*info);
        json::array items;
        for (const auto& v : *versions) {
            items.push_back(plugin::to_json(v));
        }
        out["versions"] = std::move(items);
        print_json(out);
        return 0;
    }
    std::cout << info->name << " (" << info->type << ")\n";
    if (!info->description.empty()) {
        std::cout << info->description << "\n";
    }
    std::cout << tr_n("dedup.show_summary", info->version_count,
                      {{"latest", info->latest_version > 0
                                      ? "v" + std::to_string(info->latest_version)
                                      : std::string("-")},
                       {"size", bytes_text(info->total_size_bytes)},
                       {"created", time_text(info->created_at)}})
              << "\n\n";
    print_versions(*versions);
    return 0;
}

int run_artifacts_versions(const ArtifactStore& store, const std::string& name, bool as_json) {
    auto versions = store.versions(name);
    if (!versions) {
        return fail_status(versions.error());
    }
    if (as_json) {
        json::array items;
        for (const auto& v : *versions) {
            items.push_back(plugin::to_json(v));
        }
        print_json(json::object{{"versions", std::move(items)}});
        return 0;
    }
    print_versions(*versions);
    return 0;
}

int run_artifacts_alias(ArtifactStore& store, const std::string& name, const std::string& version,
                        const std::string& alias, bool as_json) {
    const int n = plugin::parse_version_ref(version);
    if (n <= 0) {
        return fail(tr("dedup.bad_version", {{"version", version}}), 2);
    }
    auto change = store.set_alias(name, alias, n);
    if (!change) {
        return fail_status(change.error());
    }
    if (as_json) {
        print_json(json::object{
            {"ok", true},
            {"alias", change->alias},
            {"version", change->version},
            {"previous_version", change->previous_version ? json::value(*change->previous_version)
                                                          : json::value(nullptr)}});
        return 0;
    }
    if (change->previous_version && *change->previous_version != n) {
        std::cout << tr("dedup.alias_moved", {{"name", name},
                                              {"alias", alias},
                                              {"from", *change->previous_version},
                                              {"to", n}})
                  << "\n";
    } else {
        std::cout << tr("dedup.alias_set", {{"name", name}, {"alias", alias}, {"to", n}}) << "\n";
    }
    return 0;
}

int run_artifacts_download(ArtifactStore& store, const std::string& ref, const std::string& dest,
                           bool no_link, bool overwrite, bool as_json) {
    auto v = store.resolve(ref);
    if (!v) {
        return fail_status(v.error());
    }
    plugin::ArtifactDownloadOptions o;
    o.link = !no_link;
    o.overwrite = overwrite;
    auto d = store.download(v->name, v->version, dest, o);
    if (!d) {
        return fail(
            tr("dedup.download_failed", {{"ref", v->name + ":v" + std::to_string(v->version)},
                                         {"dest", dest},
                                         {"why", d.error().message()}}),
            1);
    }
    if (as_json) {
        print_json(json::object{{"name", v->name},
                                {"version", v->version},
                                {"dest", d->dest.string()},
                                {"files", d->files},
                                {"bytes", d->bytes},
                                {"hardlinks", d->hardlinks},
                                {"reflinks", d->reflinks},
                                {"copies", d->copies},
                                {"unchanged", d->unchanged}});
        return 0;
    }
    std::cout << tr("dedup.downloaded", {{"ref", v->name + ":v" + std::to_string(v->version)},
                                         {"dest", d->dest.string()},
                                         {"files", count_text("dedup.n_files", d->files)},
                                         {"bytes", bytes_text(d->bytes)},
                                         {"links", count_text("dedup.n_hard_links", d->hardlinks)},
                                         {"reflinks", count_text("dedup.n_reflinks", d->reflinks)},
                                         {"copies", count_text("dedup.n_copies", d->copies)},
                                         {"unchanged", d->unchanged}})
              << "\n";
    return 0;
}

}  // namespace

BlobCommands::BlobCommands(CLI::App& app) {
    gc_ = app.add_subcommand("gc",
                             "Delete blobs and manifests nothing references (runs, soft-deleted "
                             "runs, artifacts, writes in progress) once past the grace period");
    gc_->add_flag("--dry-run", dry_run_, "Report what would be removed; delete nothing");
    gc_->add_option("--grace", grace_seconds_,
                    "Keep anything younger than this many seconds (default 3600)");
    gc_->add_flag("--json", json_, "Print JSON");

    verify_ = app.add_subcommand(
        "verify",
        "Re-hash the blob store and check every reference (exit 0 clean, 1 problems found, 2 "
        "could not run)");
    verify_->add_option("--sample", sample_, "Re-hash only N blobs chosen at random");
    verify_->add_flag("--repair", repair_, "Move damaged blobs to archive/quarantine/");
    verify_->add_flag("--json", json_, "Print JSON");

    du_ = app.add_subcommand("du", "Space used by the blob store and saved by dedup");
    du_->add_flag("--json", json_, "Print JSON");

    artifacts_ = app.add_subcommand("artifacts", "Named, versioned artifacts");
    artifacts_->require_subcommand(1);
    ls_ = artifacts_->add_subcommand("ls", "List the artifacts");
    ls_->add_flag("--json", json_, "Print JSON");
    show_ = artifacts_->add_subcommand("show", "Show one artifact and its versions");
    show_->add_option("NAME", name_, "Artifact name")->required();
    show_->add_flag("--json", json_, "Print JSON");
    versions_ = artifacts_->add_subcommand("versions", "List an artifact's versions, newest first");
    versions_->add_option("NAME", name_, "Artifact name")->required();
    versions_->add_flag("--json", json_, "Print JSON");
    alias_ = artifacts_->add_subcommand("alias", "Point an alias at a version (moves it)");
    alias_->add_option("NAME", name_, "Artifact name")->required();
    alias_->add_option("VERSION", version_, "Version, e.g. v3")->required();
    alias_->add_option("ALIAS", alias_name_, "Alias, e.g. production")->required();
    alias_->add_flag("--json", json_, "Print JSON");
    download_ =
        artifacts_->add_subcommand("download", "Materialise a version's files into a directory");
    download_->add_option("REF", ref_, "NAME, NAME:vN, NAME:latest or NAME:ALIAS")->required();
    download_->add_option("DEST", dest_, "Destination directory (created if missing)")->required();
    download_->add_flag("--no-link", no_link_,
                        "Independent writable copies instead of read-only hard links");
    download_->add_flag("--overwrite", overwrite_, "Replace files whose content differs");
    download_->add_flag("--json", json_, "Print JSON");
}

std::optional<int> BlobCommands::run(const GlobalOptions& g) const {
    if (gc_->parsed()) {
        return run_gc(g, dry_run_, grace_seconds_, json_);
    }
    if (verify_->parsed()) {
        return run_verify(g, sample_, repair_, json_);
    }
    if (du_->parsed()) {
        return run_du(g, json_);
    }
    if (!artifacts_->parsed()) {
        return std::nullopt;
    }
    auto s = open_dedup(g);
    if (!s) {
        return fail(s.error().message(), 2);
    }
    auto& store = *s->artifacts;
    if (ls_->parsed()) {
        return run_artifacts_ls(store, json_);
    }
    if (show_->parsed()) {
        return run_artifacts_show(store, name_, json_);
    }
    if (versions_->parsed()) {
        return run_artifacts_versions(store, name_, json_);
    }
    if (alias_->parsed()) {
        return run_artifacts_alias(store, name_, version_, alias_name_, json_);
    }
    if (download_->parsed()) {
        return run_artifacts_download(store, ref_, dest_, no_link_, overwrite_, json_);
    }
    return 2;
}

}  // namespace runicorn::cli
