#include "viewer_guard.hpp"

#include <cerrno>
#include <system_error>
#include <utility>

#include "auth_routes.hpp"
#include "random_token.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::http_plugin {
namespace {

constexpr std::size_t kGeneratedTokenBytes = 32;

std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

/// Closes a descriptor when it goes. Thread safety: externally synchronized.
struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&&) = delete;
    Fd& operator=(Fd&&) = delete;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

}  // namespace

Status write_token_file(const std::filesystem::path& file, const std::string& token) {
    const std::filesystem::path dir = file.parent_path();
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return Status::unavailable("cannot create '" + dir.string() + "': " + errno_text(errno));
    }
    const std::filesystem::path temp = file.string() + ".tmp";
    ::unlink(temp.c_str());
    {
        const Fd out(
            ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (out.fd < 0) {
            return Status::unavailable("cannot create '" + temp.string() +
                                       "': " + errno_text(errno));
        }
        const std::string text = token + "\n";
        std::size_t written = 0;
        while (written < text.size()) {
            const ssize_t n = ::write(out.fd, text.data() + written, text.size() - written);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                const int e = errno;
                ::unlink(temp.c_str());
                return Status::unavailable("cannot write '" + temp.string() +
                                           "': " + errno_text(e));
            }
            written += static_cast<std::size_t>(n);
        }
        if (::fsync(out.fd) != 0) {
            const int e = errno;
            ::unlink(temp.c_str());
            return Status::unavailable("cannot write '" + temp.string() + "': " + errno_text(e));
        }
    }
    if (::rename(temp.c_str(), file.c_str()) != 0) {
        const int e = errno;
        ::unlink(temp.c_str());
        return Status::unavailable("cannot create '" + file.string() + "': " + errno_text(e));
    }
    return Status::ok();
}

Result<std::unique_ptr<ViewerGuard>> ViewerGuard::create(const HttpConfig& config,
                                                         std::filesystem::path config_dir,
                                                         std::shared_ptr<spdlog::logger> logger,
                                                         std::optional<std::string> env_token) {
    std::unique_ptr<ViewerGuard> g(new ViewerGuard());
    g->config_ = config;
    g->config_dir_ = std::move(config_dir);
    g->logger_ = std::move(logger);
    g->token_ = config.token;
    if (g->token_.empty() && env_token && !env_token->empty()) {
        g->token_ = *env_token;
    }
    const bool required = config.token_required();
    if (required && g->token_.empty()) {
        RUNICORN_ASSIGN_OR_RETURN(g->token_, random_base64url(kGeneratedTokenBytes));
        g->generated_ = true;
    }
    g->auth_ = std::make_shared<TokenAuth>(required, g->token_);

    auto limits = load_rate_limits(g->config_dir_ / "rate_limits.json");
    if (!limits) {
        g->logger_->warn("{}; using the built-in rate limits", limits.error().message());
        limits = default_rate_limits();
    }
    g->rate_limiter_ = std::make_shared<RateLimiter>(std::move(*limits));
    return g;
}

ViewerGuard::~ViewerGuard() { on_stopped(); }

GuardOptions ViewerGuard::options() const {
    GuardOptions o;
    o.allowed_origins = config_.allowed_origins;
    o.auth = auth_;
    o.rate_limiter = rate_limiter_;
    return o;
}

Status ViewerGuard::add_routes(RouteTable& routes) const { return add_auth_routes(routes, auth_); }

void ViewerGuard::on_listening(const std::string& base_url, std::uint16_t port) {
    if (!is_loopback_host(config_.host)) {
        logger_->warn(
            "the viewer listens on {} ({}), which other machines can reach: every request needs "
            "the access token. There is no TLS; prefer an SSH tunnel or a reverse proxy. Host "
            "names other than the bind address must be listed in "
            "runicorn_cpp.viewer.allowed_hosts.",
            base_url, config_.host);
    }
    if (generated_) {
        token_file_ = config_dir_ / ("viewer-" + std::to_string(port) + ".token");
        const Status written = write_token_file(token_file_, token_);
        if (!written.is_ok()) {
            logger_->warn("{}", written.message());
            token_file_.clear();
        } else {
            logger_->info("the access token for this launch is in {}", token_file_.string());
        }
    }
    if (auth_->required()) {
        // A wildcard address is no Host a browser may send (API.md §1.4): link to a configured
        // name, else to this machine's loopback.
        std::string link_base = base_url;
        if (config_.host == "0.0.0.0" || config_.host == "::") {
            link_base = "http://" +
                        (config_.allowed_hosts.empty() ? std::string("127.0.0.1")
                                                       : config_.allowed_hosts.front()) +
                        ":" + std::to_string(port);
        }
        auto code = auth_->mint_login_code();
        if (code) {
            logger_->info("sign in with this one-time link (valid 15 minutes): {}/?login={}",
                          link_base, *code);
        } else {
            logger_->warn("cannot mint a login link: {}", code.error().message());
        }
    }
}

void ViewerGuard::on_stopped() noexcept {
    if (token_file_.empty()) {
        return;
    }
    if (::unlink(token_file_.c_str()) != 0 && errno != ENOENT) {
        logger_->warn("cannot remove '{}': {}", token_file_.string(), errno_text(errno));
    }
    token_file_.clear();
}

}  // namespace runicorn::http_plugin
