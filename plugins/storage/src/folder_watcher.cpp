#include "folder_watcher.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <system_error>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace runicorn::storage {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxDepth = 70;  // discovery's 64 below runs/, plus the legacy levels
constexpr std::uint32_t kMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                IN_CLOSE_WRITE | IN_ONLYDIR | IN_EXCL_UNLINK;
// events.jsonl feeds run_metric_keys; it is appended without being closed, so a live run's
// heartbeat (rewritten by rename every few seconds) also brings its metrics up to date.
constexpr std::array<std::string_view, 7> kCatalogFiles = {
    "meta.json", "status.json",  "summary.json",   "assets.json",
    ".deleted",  "events.jsonl", ".heartbeat.json"};
constexpr std::array<std::string_view, 3> kUnwatchedTopLevel = {"archive", "index", "webui"};

bool is_catalog_file(std::string_view name) {
    for (const auto f : kCatalogFiles) {
        if (name == f) {
            return true;
        }
    }
    return false;
}

bool is_run_folder(const fs::path& dir) {
    std::error_code ec;
    return fs::exists(dir / "meta.json", ec) || fs::exists(dir / "status.json", ec);
}

int millis_until(Clock::time_point t) {
    const auto d = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now());
    return static_cast<int>(std::clamp<std::int64_t>(d.count() + 1, 0, 3'600'000));
}

}  // namespace

Result<std::unique_ptr<FolderWatcher>> FolderWatcher::start(fs::path root,
                                                            FolderWatcherOptions options,
                                                            FolderWatcherCallbacks callbacks,
                                                            std::shared_ptr<spdlog::logger> log) {
    UniqueFd in(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!in.valid()) {
        return Status::unavailable(std::string("cannot watch the storage root: inotify_init1: ") +
                                   std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
    }
    UniqueFd wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!wake.valid()) {
        return Status::unavailable(std::string("cannot watch the storage root: eventfd: ") +
                                   std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
    }
    std::unique_ptr<FolderWatcher> w(new FolderWatcher(std::move(root), options,
                                                       std::move(callbacks), std::move(log),
                                                       std::move(in), std::move(wake)));
    w->thread_ = std::thread([raw = w.get()] { raw->run(); });
    return w;
}

FolderWatcher::FolderWatcher(fs::path root, FolderWatcherOptions options,
                             FolderWatcherCallbacks callbacks, std::shared_ptr<spdlog::logger> log,
                             UniqueFd inotify, UniqueFd wake)
    : root_(std::move(root)),
      options_(options),
      callbacks_(std::move(callbacks)),
      log_(std::move(log)),
      inotify_(std::move(inotify)),
      wake_(std::move(wake)) {}

FolderWatcher::~FolderWatcher() { stop(); }

void FolderWatcher::stop() noexcept {
    if (stopped_.exchange(true)) {
        return;
    }
    const std::uint64_t one = 1;
    if (::write(wake_.get(), &one, sizeof(one)) != sizeof(one) && log_ != nullptr) {
        log_->error("cannot wake the folder watcher: {}", std::strerror(errno));  // NOLINT
    }
    if (thread_.joinable()) {
        thread_.join();
    }
}

void FolderWatcher::run() noexcept {
    try {
        loop();
    } catch (const std::exception& e) {
        if (log_ != nullptr) {
            log_->error("the folder watcher stopped: {}; the catalog is no longer kept current",
                        e.what());
        }
    } catch (...) {
        if (log_ != nullptr) {
            log_->error("the folder watcher stopped; the catalog is no longer kept current");
        }
    }
}

void FolderWatcher::do_rescan() {
    add_tree(root_, 0);  // also picks up directories missed earlier
    ++rescans_;
    callbacks_.rescan();
}

void FolderWatcher::loop() {
    do_rescan();
    auto next_scan = Clock::now() + options_.scan_interval;
    std::set<fs::path> pending;
    std::optional<Clock::time_point> flush_at;
    std::array<pollfd, 2> fds{pollfd{wake_.get(), POLLIN, 0}, pollfd{inotify_.get(), POLLIN, 0}};
    while (!stopped_) {
        const auto wake_at = flush_at ? std::min(*flush_at, next_scan) : next_scan;
        const int n = ::poll(fds.data(), fds.size(), millis_until(wake_at));
        if (n < 0 && errno != EINTR) {
            throw std::system_error(errno, std::generic_category(), "poll");
        }
        if (stopped_ || (fds[0].revents & POLLIN) != 0) {
            return;
        }
        bool overflow = false;
        if ((fds[1].revents & POLLIN) != 0) {
            overflow = !drain(pending);
            if (!pending.empty() && !flush_at) {
                flush_at = Clock::now() + options_.coalesce;
            }
        }
        const auto now = Clock::now();
        if (overflow || now >= next_scan) {
            pending.clear();
            flush_at.reset();
            do_rescan();
            next_scan = Clock::now() + options_.scan_interval;
        } else if (flush_at && now >= *flush_at) {
            std::vector<fs::path> dirs(pending.begin(), pending.end());
            pending.clear();
            flush_at.reset();
            callbacks_.changed(dirs);
        }
    }
}

bool FolderWatcher::drain(std::set<fs::path>& pending) {
    alignas(inotify_event) std::array<char, std::size_t{64} * 1024> buf{};
    bool ok = true;
    for (;;) {
        const ssize_t n = ::read(inotify_.get(), buf.data(), buf.size());
        if (n <= 0) {
            return ok;  // EAGAIN: drained
        }
        for (std::size_t off = 0; off + sizeof(inotify_event) <= static_cast<std::size_t>(n);) {
            const auto* ev = reinterpret_cast<const inotify_event*>(buf.data() + off);
            off += sizeof(inotify_event) + ev->len;
            if ((ev->mask & IN_Q_OVERFLOW) != 0) {
                ok = false;
                continue;
            }
            const auto it = watches_.find(ev->wd);
            if ((ev->mask & IN_IGNORED) != 0) {
                if (it != watches_.end()) {
                    watches_.erase(it);
                    watch_count_ = watches_.size();
                }
                continue;
            }
            if (it == watches_.end() || ev->len == 0) {
                continue;
            }
            const std::string_view name(ev->name);
            const fs::path& dir = it->second;
            if ((ev->mask & IN_ISDIR) != 0) {
                if (name.empty() || name[0] == '.') {
                    continue;
                }
                const fs::path sub = dir / std::string(name);
                if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) != 0) {
                    add_tree(sub, 0);
                } else if ((ev->mask & IN_MOVED_FROM) != 0) {
                    forget_under(sub);
                }
                pending.insert(sub);
            } else if (is_catalog_file(name)) {
                pending.insert(dir);
            }
        }
    }
}

void FolderWatcher::add_tree(const fs::path& dir, int depth) {
    if (depth > kMaxDepth || stopped_) {
        return;
    }
    const int wd = ::inotify_add_watch(inotify_.get(), dir.c_str(), kMask);
    if (wd < 0) {
        if ((errno == ENOSPC || errno == ENOMEM) && !limit_warned_ && log_ != nullptr) {
            limit_warned_ = true;
            log_->warn(
                "cannot watch '{}': the inotify watch limit is reached "
                "(fs.inotify.max_user_watches); changes there show up with the periodic scan",
                dir.string());
        }
        return;
    }
    watches_[wd] = dir;
    watch_count_ = watches_.size();
    if (dir != root_ && is_run_folder(dir)) {
        return;  // nothing inside a run folder matters to the catalog
    }
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        std::error_code type_ec;
        if (name.empty() || name[0] == '.' || it->is_symlink(type_ec) ||
            !it->is_directory(type_ec)) {
            continue;
        }
        if (dir == root_ && std::find(kUnwatchedTopLevel.begin(), kUnwatchedTopLevel.end(), name) !=
                                kUnwatchedTopLevel.end()) {
            continue;
        }
        add_tree(it->path(), depth + 1);
    }
}

void FolderWatcher::forget_under(const fs::path& dir) {
    const std::string prefix = dir.string() + "/";
    for (auto it = watches_.begin(); it != watches_.end();) {
        const std::string p = it->second.string();
        if (p == dir.string() || p.starts_with(prefix)) {
            ::inotify_rm_watch(inotify_.get(), it->first);
            it = watches_.erase(it);
        } else {
            ++it;
        }
    }
    watch_count_ = watches_.size();
}

}  // namespace runicorn::storage
