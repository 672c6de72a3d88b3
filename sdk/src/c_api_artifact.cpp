// The artifact functions of the C ABI (runicorn/c/runicorn.h, since ABI 1.2) over the C++
// Artifact / ArtifactVersion (artifact.hpp). Every function catches everything: nothing unwinds
// into C. Errors set the thread-local message that rn_last_error() returns.

#include <memory>
#include <string>
#include <vector>

#include <runicorn/artifact.hpp>
#include <runicorn/c/runicorn.h>
#include <runicorn/runicorn.hpp>

#include "c_api_internal.hpp"

/// The C artifact: the C++ Artifact. Thread safety: externally synchronized (as Artifact).
struct rn_artifact {
    runicorn::Artifact artifact;
};

/// The C version handle: the C++ ArtifactVersion plus the strings the info struct points into,
/// fixed at creation. Thread safety: safe for concurrent use (as ArtifactVersion).
struct rn_artifact_version {
    runicorn::ArtifactVersion version;
    std::string name;
    std::string type;
    std::string digest;
    std::string metadata_json;
};

namespace {

using runicorn::sdk::capi::copy_out;
using runicorn::sdk::capi::fail;
using runicorn::sdk::capi::from_status;
using runicorn::sdk::capi::internal_error;
using runicorn::sdk::capi::write_out;

int null_arg(const char* fn, const char* what) {
    return fail(RN_E_INVALID_ARGUMENT, std::string(fn) + ": " + what + " is NULL");
}

/// Hands a version to the caller as a new handle.
int give_version(runicorn::Result<runicorn::ArtifactVersion> r, rn_artifact_version** out) {
    if (!r.has_value()) {
        return from_status(r.error());
    }
    auto h = std::make_unique<rn_artifact_version>();
    h->version = std::move(*r);
    h->name = h->version.name();
    h->type = h->version.type();
    h->digest = h->version.digest();
    h->metadata_json = h->version.metadata().dump();
    *out = h.release();
    return RN_OK;
}

int check_flags(int flags, const char* fn) {
    if ((flags & ~(RN_DL_NO_LINK | RN_DL_OVERWRITE)) != 0) {
        return fail(RN_E_INVALID_ARGUMENT, std::string(fn) + ": unknown flags " +
                                               std::to_string(flags) +
                                               " (RN_DL_NO_LINK | RN_DL_OVERWRITE)");
    }
    return RN_OK;
}

runicorn::DownloadOptions download_options(int flags) {
    runicorn::DownloadOptions o;
    o.link = (flags & RN_DL_NO_LINK) == 0;
    o.overwrite = (flags & RN_DL_OVERWRITE) != 0;
    return o;
}

}  // namespace

extern "C" {

int rn_artifact_new(const char* name, const char* type, rn_artifact** out) {
    try {
        if (out == nullptr) {
            return null_arg("rn_artifact_new", "out");
        }
        *out = nullptr;
        if (name == nullptr || type == nullptr) {
            return null_arg("rn_artifact_new", name == nullptr ? "name" : "type");
        }
        auto a = runicorn::Artifact::create(name, type);
        if (!a.has_value()) {
            return from_status(a.error());
        }
        *out = new rn_artifact{std::move(*a)};
        return RN_OK;
    } catch (...) {
        return internal_error("rn_artifact_new");
    }
}

int rn_artifact_add_file(rn_artifact* artifact, const char* local_path,
                         const char* name_in_artifact) {
    try {
        if (artifact == nullptr || local_path == nullptr) {
            return null_arg("rn_artifact_add_file",
                            artifact == nullptr ? "artifact" : "local_path");
        }
        return from_status(artifact->artifact.add_file(
            local_path, name_in_artifact != nullptr ? name_in_artifact : ""));
    } catch (...) {
        return internal_error("rn_artifact_add_file");
    }
}

int rn_artifact_add_dir(rn_artifact* artifact, const char* local_dir, const char* prefix) {
    try {
        if (artifact == nullptr || local_dir == nullptr) {
            return null_arg("rn_artifact_add_dir", artifact == nullptr ? "artifact" : "local_dir");
        }
        return from_status(artifact->artifact.add_dir(local_dir, prefix != nullptr ? prefix : ""));
    } catch (...) {
        return internal_error("rn_artifact_add_dir");
    }
}

int rn_artifact_set_description(rn_artifact* artifact, const char* description) {
    try {
        if (artifact == nullptr) {
            return null_arg("rn_artifact_set_description", "artifact");
        }
        artifact->artifact.set_description(description != nullptr ? description : "");
        return RN_OK;
    } catch (...) {
        return internal_error("rn_artifact_set_description");
    }
}

int rn_artifact_set_metadata_json(rn_artifact* artifact, const char* json_object) {
    try {
        if (artifact == nullptr || json_object == nullptr) {
            return null_arg("rn_artifact_set_metadata_json",
                            artifact == nullptr ? "artifact" : "json_object");
        }
        auto j = runicorn::Json::parse(json_object);
        if (!j.has_value()) {
            return from_status(j.error().with_context("rn_artifact_set_metadata_json"));
        }
        return from_status(artifact->artifact.set_metadata(std::move(*j)));
    } catch (...) {
        return internal_error("rn_artifact_set_metadata_json");
    }
}

int rn_artifact_release(rn_artifact* artifact) {
    delete artifact;
    return RN_OK;
}

int rn_log_artifact(rn_run* run, const rn_artifact* artifact, const char* const* aliases, size_t n,
                    rn_artifact_version** out) {
    try {
        if (out == nullptr) {
            return null_arg("rn_log_artifact", "out");
        }
        *out = nullptr;
        if (run == nullptr || artifact == nullptr) {
            return null_arg("rn_log_artifact", run == nullptr ? "run" : "artifact");
        }
        if (n > 0 && aliases == nullptr) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_log_artifact: aliases is NULL but n is not 0");
        }
        std::vector<std::string> list;
        list.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            if (aliases[i] == nullptr) {
                return fail(RN_E_INVALID_ARGUMENT,
                            "rn_log_artifact: aliases[" + std::to_string(i) + "] is NULL");
            }
            list.emplace_back(aliases[i]);
        }
        return give_version(run->run.log_artifact(artifact->artifact, list), out);
    } catch (...) {
        return internal_error("rn_log_artifact");
    }
}

int rn_use_artifact(rn_run* run, const char* ref, rn_artifact_version** out) {
    try {
        if (out == nullptr) {
            return null_arg("rn_use_artifact", "out");
        }
        *out = nullptr;
        if (run == nullptr || ref == nullptr) {
            return null_arg("rn_use_artifact", run == nullptr ? "run" : "ref");
        }
        return give_version(run->run.use_artifact(ref), out);
    } catch (...) {
        return internal_error("rn_use_artifact");
    }
}

int rn_artifact_resolve(const char* ref, const char* storage, rn_artifact_version** out) {
    try {
        if (out == nullptr) {
            return null_arg("rn_artifact_resolve", "out");
        }
        *out = nullptr;
        if (ref == nullptr) {
            return null_arg("rn_artifact_resolve", "ref");
        }
        return give_version(runicorn::artifact(ref, storage != nullptr ? storage : ""), out);
    } catch (...) {
        return internal_error("rn_artifact_resolve");
    }
}

int rn_artifact_version_get_info(rn_artifact_version* version, rn_artifact_version_info* out) {
    try {
        if (version == nullptr || out == nullptr) {
            return null_arg("rn_artifact_version_get_info", version == nullptr ? "version" : "out");
        }
        rn_artifact_version_info info{};
        info.struct_size = sizeof info;
        info.name = version->name.c_str();
        info.type = version->type.c_str();
        info.version = version->version.version();
        info.digest = version->digest.c_str();
        info.file_count = version->version.file_count();
        info.total_size_bytes = version->version.total_size_bytes();
        info.deduplicated = version->version.deduplicated() ? 1 : 0;
        info.metadata_json = version->metadata_json.c_str();
        if (!copy_out(info, out)) {
            return fail(RN_E_INVALID_ARGUMENT,
                        "rn_artifact_version_get_info: out->struct_size is too small");
        }
        return RN_OK;
    } catch (...) {
        return internal_error("rn_artifact_version_get_info");
    }
}

int rn_artifact_version_json(rn_artifact_version* version, char* out_json, size_t out_cap,
                             size_t* out_needed) {
    try {
        if (version == nullptr) {
            return null_arg("rn_artifact_version_json", "version");
        }
        return write_out(version->version.to_json(), out_json, out_cap, out_needed,
                         "rn_artifact_version_json", "nothing was changed");
    } catch (...) {
        return internal_error("rn_artifact_version_json");
    }
}

int rn_artifact_version_files_json(rn_artifact_version* version, char* out_json, size_t out_cap,
                                   size_t* out_needed) {
    try {
        if (version == nullptr) {
            return null_arg("rn_artifact_version_files_json", "version");
        }
        auto files = version->version.files();
        if (!files.has_value()) {
            return from_status(files.error());
        }
        runicorn::Json list = runicorn::Json::array();
        for (const auto& f : *files) {
            list.push_back(runicorn::Json::object(
                {{"path", f.path}, {"size_bytes", f.size_bytes}, {"sha256", f.sha256}}));
        }
        return write_out(list.dump(), out_json, out_cap, out_needed,
                         "rn_artifact_version_files_json", "nothing was changed");
    } catch (...) {
        return internal_error("rn_artifact_version_files_json");
    }
}

int rn_artifact_version_download(rn_artifact_version* version, const char* dest, int flags,
                                 char* out_path, size_t out_cap, size_t* out_needed) {
    try {
        if (version == nullptr) {
            return null_arg("rn_artifact_version_download", "version");
        }
        if (const int rc = check_flags(flags, "rn_artifact_version_download"); rc != RN_OK) {
            return rc;
        }
        auto r = version->version.download(dest != nullptr ? dest : "", download_options(flags));
        if (!r.has_value()) {
            return from_status(r.error());
        }
        return write_out(r->string(), out_path, out_cap, out_needed, "rn_artifact_version_download",
                         "the files were downloaded");
    } catch (...) {
        return internal_error("rn_artifact_version_download");
    }
}

int rn_artifact_version_download_file(rn_artifact_version* version, const char* rel,
                                      const char* dest, int flags, char* out_path, size_t out_cap,
                                      size_t* out_needed) {
    try {
        if (version == nullptr || rel == nullptr) {
            return null_arg("rn_artifact_version_download_file",
                            version == nullptr ? "version" : "rel");
        }
        if (const int rc = check_flags(flags, "rn_artifact_version_download_file"); rc != RN_OK) {
            return rc;
        }
        auto r = version->version.download_file(rel, dest != nullptr ? dest : "",
                                                download_options(flags));
        if (!r.has_value()) {
            return from_status(r.error());
        }
        return write_out(r->string(), out_path, out_cap, out_needed,
                         "rn_artifact_version_download_file", "the file was downloaded");
    } catch (...) {
        return internal_error("rn_artifact_version_download_file");
    }
}

int rn_artifact_version_set_alias(rn_artifact_version* version, const char* alias) {
    try {
        if (version == nullptr || alias == nullptr) {
            return null_arg("rn_artifact_version_set_alias",
                            version == nullptr ? "version" : "alias");
        }
        return from_status(version->version.set_alias(alias));
    } catch (...) {
        return internal_error("rn_artifact_version_set_alias");
    }
}

int rn_artifact_version_remove_alias(rn_artifact_version* version, const char* alias) {
    try {
        if (version == nullptr || alias == nullptr) {
            return null_arg("rn_artifact_version_remove_alias",
                            version == nullptr ? "version" : "alias");
        }
        return from_status(version->version.remove_alias(alias));
    } catch (...) {
        return internal_error("rn_artifact_version_remove_alias");
    }
}

int rn_artifact_version_release(rn_artifact_version* version) {
    delete version;
    return RN_OK;
}

}  // extern "C"
