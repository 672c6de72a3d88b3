#include "file_watch.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace runicorn::http_plugin::live {
namespace {

constexpr std::uint32_t kMask = IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO |
                                IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF |
                                IN_MOVE_SELF;

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

}  // namespace

Result<std::shared_ptr<FileWatchHub>> FileWatchHub::start(std::shared_ptr<spdlog::logger> log) {
    const int ifd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ifd < 0) {
        return Status::unavailable("cannot watch run folders: inotify_init1: " + errno_text(errno));
    }
    const int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0) {
        const int err = errno;
        ::close(ifd);
        return Status::unavailable("cannot watch run folders: eventfd: " + errno_text(err));
    }
    auto hub = std::make_shared<FileWatchHub>(ifd, efd, std::move(log));
    try {
        hub->thread_ = std::thread([raw = hub.get()] { raw->run(); });
    } catch (const std::system_error& e) {
        return Status::resource_exhausted(std::string("cannot start the file watcher: ") +
                                          e.what());
    }
    return hub;
}

FileWatchHub::FileWatchHub(int inotify_fd, int wake_fd, std::shared_ptr<spdlog::logger> log)
    : inotify_fd_(inotify_fd), wake_fd_(wake_fd), log_(std::move(log)) {}

FileWatchHub::~FileWatchHub() {
    stop();
    ::close(inotify_fd_);
    ::close(wake_fd_);
}

void FileWatchHub::stop() noexcept {
    {
        const std::lock_guard lock(mu_);
        if (stopped_) {
            return;
        }
        stopped_ = true;
        dirs_.clear();
        wd_to_dir_.clear();
        token_dir_.clear();
    }
    const std::uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof(one)) < 0 && log_ != nullptr) {
        log_->warn("waking the file watcher failed: {}", errno_text(errno));
    }
    if (thread_.joinable()) {
        thread_.join();
    }
}

Result<std::uint64_t> FileWatchHub::watch(const std::filesystem::path& dir, Callback callback) {
    const std::lock_guard lock(mu_);
    if (stopped_) {
        return Status::failed_precondition("the file watcher has stopped");
    }
    const std::string key = dir.string();
    auto it = dirs_.find(key);
    if (it == dirs_.end()) {
        const int wd = ::inotify_add_watch(inotify_fd_, key.c_str(), kMask | IN_ONLYDIR);
        if (wd < 0) {
            const int err = errno;
            std::string msg = "cannot watch '" + key + "': " + errno_text(err);
            return err == ENOENT ? Status::not_found(std::move(msg))
                                 : Status::unavailable(std::move(msg));
        }
        // inotify hands out one wd per inode: two paths of one directory share it.
        if (auto other = wd_to_dir_.find(wd); other != wd_to_dir_.end()) {
            it = dirs_.find(other->second);
        } else {
            Dir d;
            d.wd = wd;
            d.path = key;
            it = dirs_.emplace(key, std::move(d)).first;
            wd_to_dir_[wd] = key;
        }
    }
    const std::uint64_t token = next_token_++;
    it->second.callbacks.emplace(token, std::move(callback));
    token_dir_[token] = it->first;
    return token;
}

void FileWatchHub::unwatch(std::uint64_t token) noexcept {
    const std::lock_guard lock(mu_);
    auto t = token_dir_.find(token);
    if (t == token_dir_.end()) {
        return;
    }
    auto d = dirs_.find(t->second);
    token_dir_.erase(t);
    if (d == dirs_.end()) {
        return;
    }
    d->second.callbacks.erase(token);
    if (d->second.callbacks.empty()) {
        ::inotify_rm_watch(inotify_fd_, d->second.wd);
        wd_to_dir_.erase(d->second.wd);
        dirs_.erase(d);
    }
}

void FileWatchHub::dispatch(int wd, std::string_view name) {
    // Called with mu_ held.
    if (wd < 0) {
        for (auto& [path, d] : dirs_) {
            for (auto& [token, cb] : d.callbacks) {
                cb("");
            }
        }
        return;
    }
    auto w = wd_to_dir_.find(wd);
    if (w == wd_to_dir_.end()) {
        return;
    }
    auto d = dirs_.find(w->second);
    if (d == dirs_.end()) {
        return;
    }
    for (auto& [token, cb] : d->second.callbacks) {
        cb(name);
    }
}

void FileWatchHub::run() noexcept {
    alignas(inotify_event) char buf[64 * 1024];
    while (true) {
        pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        const int n = ::poll(fds, 2, -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (log_ != nullptr) {
                log_->error("the file watcher stopped: poll: {}", errno_text(errno));
            }
            return;
        }
        if ((fds[1].revents & POLLIN) != 0) {
            return;
        }
        if ((fds[0].revents & POLLIN) == 0) {
            continue;
        }
        const ssize_t len = ::read(inotify_fd_, buf, sizeof(buf));
        if (len <= 0) {
            continue;
        }
        const std::lock_guard lock(mu_);
        if (stopped_) {
            return;
        }
        for (ssize_t off = 0; off < len;) {
            inotify_event ev{};
            std::memcpy(&ev, buf + off, sizeof(ev));
            const char* name_ptr = buf + off + sizeof(inotify_event);
            const std::string_view name =
                ev.len > 0 ? std::string_view(name_ptr, ::strnlen(name_ptr, ev.len))
                           : std::string_view();
            try {
                if ((ev.mask & IN_Q_OVERFLOW) != 0) {
                    dispatch(-1, "");
                } else if ((ev.mask & IN_IGNORED) == 0) {
                    dispatch(ev.wd, name);
                }
            } catch (const std::exception& e) {
                if (log_ != nullptr) {
                    log_->error("a file watch callback threw: {}", e.what());
                }
            }
            off += static_cast<ssize_t>(sizeof(inotify_event) + ev.len);
        }
    }
}

}  // namespace runicorn::http_plugin::live
