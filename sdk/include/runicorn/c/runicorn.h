/* The Runicorn C ABI (SDK.md §3): the C++ SDK behind plain C99 types, for C, Rust, Go, Julia,
 * Fortran and other bindings.
 *
 * Rules:
 *  - Every function returns RN_OK or an error code; on error, rn_last_error() on the same thread
 *    describes it (valid until the next rn_* call on that thread). No function throws or aborts.
 *  - Strings are UTF-8 and NUL-terminated unless a length is passed; input strings are copied
 *    before the call returns.
 *  - Output text goes to caller buffers: on RN_E_BUFFER_TOO_SMALL, *out_needed holds the size
 *    including the NUL. Passing out_path == NULL and out_cap == 0 means "no text wanted".
 *  - Structs carry struct_size, set by the caller (rn_init_options_default sets it): a smaller
 *    size from an older caller is accepted, and only the members that fit are read or written.
 *  - Every function is safe for concurrent use; one rn_run may be used from several threads,
 *    except that rn_run_release must be the last call on it.
 *
 * Not in this version: the rn_init_options members capture_env and capture_fd are kept for the
 * ABI; any value other than 0 gives RN_E_UNIMPLEMENTED. tqdm_mode is accepted and unused. */
#ifndef RUNICORN_C_RUNICORN_H
#define RUNICORN_C_RUNICORN_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define RN_API __attribute__((visibility("default")))
#else
#define RN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* C has no `using`: the typedefs stay (clang-tidy's modernize-use-using is for C++). */
/* NOLINTBEGIN(modernize-use-using) */

#define RN_ABI_VERSION_MAJOR 1
#define RN_ABI_VERSION_MINOR 2
/* (major << 16) | minor; check before anything else. */
RN_API uint32_t rn_abi_version(void);
/* Our version, a static string. */
RN_API const char* rn_version(void);

/* One code per StatusCode of the C++ API, plus RN_E_BUFFER_TOO_SMALL. */
enum {
    RN_OK = 0,
    RN_E_INVALID_ARGUMENT = 1,
    RN_E_NOT_FOUND = 2,
    RN_E_ALREADY_EXISTS = 3,
    RN_E_PERMISSION_DENIED = 4,
    RN_E_RESOURCE_EXHAUSTED = 5,
    RN_E_FAILED_PRECONDITION = 6,
    RN_E_UNAVAILABLE = 7,
    RN_E_DEADLINE_EXCEEDED = 8,
    RN_E_DATA_LOSS = 9,
    RN_E_UNIMPLEMENTED = 10,
    RN_E_INTERNAL = 11,
    RN_E_BUFFER_TOO_SMALL = 12 /* C only: an output buffer is too small */
};
/* The thread-local message of the last failing call on this thread; "" if none; never NULL. */
RN_API const char* rn_last_error(void);
/* "OK", "INVALID_ARGUMENT", ..., "BUFFER_TOO_SMALL"; "UNKNOWN" for other values. Static. */
RN_API const char* rn_status_name(int status);

enum { RN_RESUME_NEVER = 0, RN_RESUME_ALLOW = 1, RN_RESUME_MUST = 2 };
enum { RN_SNAPSHOT_MANIFEST = 0, RN_SNAPSHOT_ZIP = 1 };
enum { RN_TQDM_SMART = 0, RN_TQDM_ALL = 1, RN_TQDM_NONE = 2 };
enum { RN_DURABILITY_BUFFERED = 0, RN_DURABILITY_FLUSH = 1, RN_DURABILITY_NONE = 2 };
enum { RN_MODE_MAX = 0, RN_MODE_MIN = 1 };
enum { RN_DL_NO_LINK = 1, RN_DL_OVERWRITE = 2 };

/* Opaque handles. */
typedef struct rn_run rn_run;

typedef struct rn_init_options {
    uint32_t struct_size; /* sizeof(rn_init_options) as compiled by the caller */
    const char* path;     /* NULL → "default"; "" or "/" → root */
    const char* project;
    const char* name;
    const char* storage;
    const char* run_id;
    const char* alias;
    const char* const* tags;
    size_t tag_count;
    int resume; /* RN_RESUME_NEVER / _ALLOW / _MUST */
    /* Since ABI 1.2 honoured: non-zero takes a code snapshot of workspace_root before rn_init
     * returns. Too large without force_snapshot → RN_E_INVALID_ARGUMENT "code snapshot too
     * large: ..." (the created run is finished as "failed"); other snapshot failures are a
     * warning (kind "snapshot") and rn_init succeeds. */
    int snapshot_code;
    int snapshot_format; /* RN_SNAPSHOT_MANIFEST / _ZIP; other values → RN_E_INVALID_ARGUMENT */
    const char* workspace_root;
    int capture_env;
    int capture_fd;
    int tqdm_mode;
    int durability;
    uint32_t flush_interval_ms, sync_interval_ms, max_block_ms, heartbeat_interval_s;
    uint64_t queue_capacity_bytes;
    int handle_signals;
    /* Since ABI 1.1: the calling layer for meta.json "writer" ("c", "cpp" or "python"; NULL →
     * "c") and the Python version for meta.json "python" (NULL → null). */
    const char* writer_language;
    const char* python_version;
    /* Since ABI 1.2: non-zero ignores the code snapshot's 500 MiB / 200,000-file limits. */
    int force_snapshot;
} rn_init_options;
/* Fills the defaults of SDK.md §2.3 and struct_size. */
RN_API void rn_init_options_default(rn_init_options* o);
/* Creates a run (SDK.md §1.1). o == NULL uses the defaults. Disabled → RN_OK with a no-op run.
 * On success *out owns the run until rn_run_release. */
RN_API int rn_init(const rn_init_options* o, rn_run** out);
/* Finishes the run ("finished") if needed, then frees the handle. Returns the finish's code
 * (the handle is freed either way). NULL → RN_OK. */
RN_API int rn_run_release(rn_run* run);

#define RN_AUTO_STEP INT64_MIN /* log: use the automatic step */
#define RN_NO_STEP INT64_MIN   /* log_image: the event's "step" is null */
enum { RN_VAL_NULL = 0, RN_VAL_F64 = 1, RN_VAL_I64 = 2, RN_VAL_BOOL = 3, RN_VAL_STR = 4 };
typedef struct rn_kv {
    const char* key;
    int type; /* RN_VAL_* */
    union {
        double f64;
        int64_t i64;
        int boolean;
        struct {
            const char* ptr;
            size_t len;
        } str;
    } v;
} rn_kv;
/* Queues one metrics record (SDK.md §1.3). RN_OK when queued; RN_E_RESOURCE_EXHAUSTED when the
 * queue was full and the record dropped (counted); RN_E_FAILED_PRECONDITION on a finished run;
 * RN_E_INVALID_ARGUMENT for a NULL run, NULL items with n > 0, or an unknown type. */
RN_API int rn_log(rn_run* run, const rn_kv* items, size_t n, int64_t step,
                  const char* stage /* NULL = none */);
/* The same for n double values. */
RN_API int rn_log_f64(rn_run* run, const char* const* keys, const double* values, size_t n,
                      int64_t step, const char* stage);
/* Queues the logs.txt line "HH:MM:SS | <text>". */
RN_API int rn_log_text(rn_run* run, const char* utf8, size_t len);
/* Writes media/<file> and queues its image event; the path "media/<file>" goes to out_path
 * (128 bytes always suffice). On RN_E_BUFFER_TOO_SMALL the image was logged all the same. */
RN_API int rn_log_image(rn_run* run, const char* key, const void* bytes, size_t len,
                        int64_t step /* or RN_NO_STEP */, const char* caption, const char* format,
                        char* out_path, size_t out_cap, size_t* out_needed);
RN_API int rn_log_image_file(rn_run* run, const char* key, const char* file, int64_t step,
                             const char* caption, char* out_path, size_t out_cap,
                             size_t* out_needed);
RN_API int rn_set_primary_metric(rn_run* run, const char* name,
                                 int mode /* RN_MODE_MAX / RN_MODE_MIN */);
/* Shallow-merges a JSON object into summary.json. */
RN_API int rn_summary_json(rn_run* run, const char* json_object);
/* Sets assets.json config: args and extra are JSON objects, config_files paths; NULL (and
 * n_files == 0) leaves a member unchanged. */
RN_API int rn_log_config_json(rn_run* run, const char* args_json, const char* extra_json,
                              const char* const* config_files, size_t n_files);
RN_API int rn_flush(rn_run* run, uint32_t timeout_ms);
RN_API int rn_finish(rn_run* run, const char* status /* NULL = "finished" */);
/* Since ABI 1.1. rn_finish that also merges status.json "exit_reason" (NULL or "" = none), e.g.
 * "exception" when a language binding saw the program fail. */
RN_API int rn_finish_ex(rn_run* run, const char* status, const char* exit_reason);
/* Since ABI 1.1. Queues text into logs.txt verbatim, a '\n' appended unless it ends with one:
 * for lines the caller has already prefixed (console capture "[HH:MM:SS] line", logging
 * handlers). RN_OK when queued; RN_E_RESOURCE_EXHAUSTED when dropped; RN_E_FAILED_PRECONDITION
 * on a finished run. */
RN_API int rn_log_raw(rn_run* run, const char* utf8, size_t len);

typedef struct rn_run_info {
    uint32_t struct_size;
    const char* id;
    const char* path;
    const char* run_dir;
    const char* storage_root;
    int enabled;
    int finished;
} rn_run_info;
/* Strings owned by the handle, valid until release. */
RN_API int rn_run_get_info(rn_run* run, rn_run_info* out);
typedef struct rn_run_stats {
    uint32_t struct_size;
    uint64_t records_logged, records_written, records_dropped, bytes_written, write_errors,
        queue_bytes;
} rn_run_stats;
RN_API int rn_run_get_stats(rn_run* run, rn_run_stats* out);

/* The process-wide warning callback (used by runs created through this ABI); NULL restores the
 * default "runicorn: ..." line on stderr. Called from any thread. */
RN_API int rn_set_warning_callback(void (*cb)(int code, const char* kind, const char* message,
                                              void* user),
                                   void* user);
RN_API int rn_is_enabled(void);
RN_API void rn_set_enabled(int enabled);
RN_API void rn_reset_enabled(void);

/* ---- Assets (sdk-assets, ABI minor 2): archive copies, code snapshots, outputs scanner ----
 * Options are JSON objects with the members of the C++ option structs (SDK.md §3); NULL or "{}"
 * takes the defaults. They work in the calling thread and return once assets.json is written. */
/* DatasetOptions: {"context", "save", "description", "force_save", "max_archive_bytes",
 * "max_archive_files"}; over the limits without force_save: RN_E_INVALID_ARGUMENT. */
RN_API int rn_log_dataset(rn_run* run, const char* name, const char* root_or_uri,
                          const char* options_json);
/* PretrainedOptions: {"path_or_uri", "save", "source_type", "description", "force_save",
 * "max_archive_bytes", "max_archive_files"}. */
RN_API int rn_log_pretrained(rn_run* run, const char* name, const char* options_json);
/* SnapshotOptions: {"workspace_root", "format": "manifest"|"zip", "force", "extra_excludes",
 * "ignore_file", "max_total_bytes", "max_files"}. Writes the code.snapshot entry as JSON. */
RN_API int rn_snapshot_code(rn_run* run, const char* options_json, char* out_json, size_t out_cap,
                            size_t* out_needed);
/* OutputsOptions: {"output_dirs": [..], "patterns", "stable_required", "min_age_sec", "mode",
 * "log_snapshot_interval_sec", "state_gc_after_sec"}. Writes {"run_id", "scanned", "archived",
 * "changed", "archived_entries"}. On RN_E_BUFFER_TOO_SMALL the scan has happened: fetch its
 * result with rn_last_scan_result on the same thread. */
RN_API int rn_scan_outputs_once(rn_run* run, const char* options_json, char* out_json,
                                size_t out_cap, size_t* out_needed);
/* The JSON result of this thread's last rn_scan_outputs_once. */
RN_API int rn_last_scan_result(char* out_json, size_t out_cap, size_t* out_needed);
/* A watcher thread scanning every interval_ms until rn_stop_outputs_watch or finish;
 * RN_E_ALREADY_EXISTS when the run has one. */
RN_API int rn_watch_outputs(rn_run* run, const char* options_json, uint32_t interval_ms);
RN_API int rn_stop_outputs_watch(rn_run* run);

/* ---- Artifacts (sdk-artifacts, since ABI 1.2): SDK.md §2.4, FORMAT.md §7.6 ----------------
 * Names: artifact [A-Za-z0-9][A-Za-z0-9._-]{0,127}, type [A-Za-z0-9][A-Za-z0-9._-]{0,63}, alias
 * [A-Za-z][A-Za-z0-9._-]{0,63} except "latest" and "v<N>". References: "name", "name:latest",
 * "name:v3", "name:<alias>". Logging, use and download work in the calling thread. Without the
 * dedup plugin these calls return RN_E_UNAVAILABLE. */
typedef struct rn_artifact rn_artifact;                 /* files to log as a new version */
typedef struct rn_artifact_version rn_artifact_version; /* one resolved version */

/* A new, empty artifact. RN_E_INVALID_ARGUMENT for a bad name or type. */
RN_API int rn_artifact_new(const char* name, const char* type, rn_artifact** out);
/* Adds a regular file as name_in_artifact (NULL or "": its base name). RN_E_NOT_FOUND when it
 * does not exist; RN_E_INVALID_ARGUMENT when it is not a file, for a bad path or one already
 * taken. Files are read when the artifact is logged. */
RN_API int rn_artifact_add_file(rn_artifact* artifact, const char* local_path,
                                const char* name_in_artifact);
/* Adds every file under a folder below prefix (NULL or "": the artifact root). */
RN_API int rn_artifact_add_dir(rn_artifact* artifact, const char* local_dir, const char* prefix);
RN_API int rn_artifact_set_description(rn_artifact* artifact, const char* description);
/* RN_E_INVALID_ARGUMENT unless json_object is a JSON object. */
RN_API int rn_artifact_set_metadata_json(rn_artifact* artifact, const char* json_object);
/* NULL → RN_OK. */
RN_API int rn_artifact_release(rn_artifact* artifact);

/* Logs the artifact as the run's next version (or reuses the latest version when the content is
 * identical), pointing the n aliases at it; records the run's artifacts.json. On success *out
 * owns the version until rn_artifact_version_release. RN_E_FAILED_PRECONDITION on a finished
 * or no-op run. */
RN_API int rn_log_artifact(rn_run* run, const rn_artifact* artifact, const char* const* aliases,
                           size_t n, rn_artifact_version** out);
/* Resolves ref and records the use in the run's artifacts.json (a no-op run only resolves, in
 * the default storage root). RN_E_NOT_FOUND for an unknown artifact, version or alias. */
RN_API int rn_use_artifact(rn_run* run, const char* ref, rn_artifact_version** out);
/* Resolves ref in storage (NULL or "": the default root) without recording a use. */
RN_API int rn_artifact_resolve(const char* ref, const char* storage, rn_artifact_version** out);

typedef struct rn_artifact_version_info {
    uint32_t struct_size;
    const char* name;
    const char* type;
    int32_t version;
    const char* digest;
    uint64_t file_count, total_size_bytes;
    int deduplicated;
    const char* metadata_json;
} rn_artifact_version_info;
/* Strings owned by the handle, valid until its release. */
RN_API int rn_artifact_version_get_info(rn_artifact_version* version,
                                        rn_artifact_version_info* out);
/* The whole version object as JSON text: {"name", "type", "version", "digest", "created_at",
 * "description", "metadata", "file_count", "total_size_bytes", "aliases", "produced_by",
 * "latest", "deduplicated"}. */
RN_API int rn_artifact_version_json(rn_artifact_version* version, char* out_json, size_t out_cap,
                                    size_t* out_needed);
/* The files as a JSON array of {"path", "size_bytes", "sha256"}, sorted by path. */
RN_API int rn_artifact_version_files_json(rn_artifact_version* version, char* out_json,
                                          size_t out_cap, size_t* out_needed);
/* Materialises every file under dest (NULL or "": ./artifacts/<name>-v<N>); flags 0 = read-only
 * hard links, RN_DL_NO_LINK = writable copies, RN_DL_OVERWRITE = replace files with other
 * content (else RN_E_ALREADY_EXISTS). The absolute destination goes to out_path; on
 * RN_E_BUFFER_TOO_SMALL the download was done all the same. */
RN_API int rn_artifact_version_download(rn_artifact_version* version, const char* dest, int flags,
                                        char* out_path, size_t out_cap, size_t* out_needed);
/* Materialises the one file rel (a path of the version) under dest; its absolute path goes to
 * out_path. RN_E_NOT_FOUND when the version has no such file. */
RN_API int rn_artifact_version_download_file(rn_artifact_version* version, const char* rel,
                                             const char* dest, int flags, char* out_path,
                                             size_t out_cap, size_t* out_needed);
/* Points a user alias at this version (moving it). RN_E_INVALID_ARGUMENT for a reserved alias. */
RN_API int rn_artifact_version_set_alias(rn_artifact_version* version, const char* alias);
/* Removes a user alias pointing at this version. RN_E_NOT_FOUND when it is not set;
 * RN_E_FAILED_PRECONDITION when it points at another version. */
RN_API int rn_artifact_version_remove_alias(rn_artifact_version* version, const char* alias);
/* NULL → RN_OK. */
RN_API int rn_artifact_version_release(rn_artifact_version* version);

/* NOLINTEND(modernize-use-using) */

#ifdef __cplusplus
}
#endif

#endif /* RUNICORN_C_RUNICORN_H */
