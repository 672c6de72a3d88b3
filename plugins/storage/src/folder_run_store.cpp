#include "folder_run_store.hpp"

#include "run_discovery.hpp"
#include "run_reader.hpp"
#include "run_writer.hpp"

namespace runicorn::storage {
namespace fs = std::filesystem;

FolderRunStore::FolderRunStore(fs::path root, std::shared_ptr<spdlog::logger> log, Options options)
    : root_(std::move(root)),
      log_(std::move(log)),
      options_(options),
      local_(LocalHost::current()) {}

Result<std::vector<plugin::RunLocation>> FolderRunStore::discover_runs(bool include_deleted) const {
    return storage::discover_runs(root_, include_deleted, log_.get());
}

Result<std::shared_ptr<plugin::RunWriter>> FolderRunStore::open_run(
    const plugin::RunCreateOptions& options) const {
    RUNICORN_ASSIGN_OR_RETURN(auto writer, FolderRunWriter::open(root_, options, log_));
    return std::shared_ptr<plugin::RunWriter>(std::move(writer));
}

Result<plugin::RunInfo> FolderRunStore::read_run(const plugin::RunLocation& location) const {
    ReadRunOptions options;
    options.check_liveness = options_.check_liveness;
    options.tracker = &tracker_;
    options.local = &local_;
    return read_run_folder(location, options, log_.get());
}

}  // namespace runicorn::storage
