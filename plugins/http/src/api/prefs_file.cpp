#include "prefs_file.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>

#include "api_json.hpp"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::http_plugin::api {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

/// Owns a file descriptor. Thread safety: externally synchronized.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&&) = delete;
    Fd& operator=(Fd&&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

std::string env_value(const std::string& name, bool& found) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): nothing in the viewer calls setenv.
    const char* v = std::getenv(name.c_str());
    found = v != nullptr;
    return v != nullptr ? std::string(v) : std::string();
}

bool is_var_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

Status write_atomically(const fs::path& file, const std::string& text) {
    const fs::path tmp = file.string() + ".tmp." + std::to_string(::getpid());
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (fd.get() < 0) {
            return Status::internal("creating '" + tmp.string() + "': " + errno_text(errno));
        }
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                const int err = errno;
                ::unlink(tmp.c_str());
                return Status::internal("writing '" + tmp.string() + "': " + errno_text(err));
            }
            done += static_cast<std::size_t>(n);
        }
        if (::fsync(fd.get()) != 0) {
            const int err = errno;
            ::unlink(tmp.c_str());
            return Status::internal("syncing '" + tmp.string() + "': " + errno_text(err));
        }
    }
    if (::rename(tmp.c_str(), file.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return Status::internal("renaming '" + tmp.string() + "' to '" + file.string() +
                                "': " + errno_text(err));
    }
    return Status::ok();
}

}  // namespace

Result<boost::json::object> read_object_file(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        return boost::json::object();
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return Status::internal("cannot open '" + file.string() + "'");
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
        return boost::json::object();  // an empty file counts as absent (FORMAT.md G6)
    }
    std::optional<boost::json::value> v = parse_tolerant_json(text);
    if (!v || !v->is_object()) {
        return Status::data_loss("'" + file.string() + "' is not a JSON object");
    }
    return std::move(v->as_object());
}

Status update_object_file(const fs::path& file,
                          const std::function<void(boost::json::object&)>& change) {
    const fs::path dir = file.parent_path();
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) {
            return Status::internal("creating '" + dir.string() + "': " + ec.message());
        }
        fs::permissions(dir, fs::perms::owner_all, ec);
    }
    const fs::path lock_path = file.string() + ".lock";
    Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (lock.get() < 0) {
        return Status::internal("opening '" + lock_path.string() + "': " + errno_text(errno));
    }
    while (::flock(lock.get(), LOCK_EX) != 0) {
        if (errno != EINTR) {
            return Status::internal("locking '" + lock_path.string() + "': " + errno_text(errno));
        }
    }
    RUNICORN_ASSIGN_OR_RETURN(boost::json::object obj, read_object_file(file));
    change(obj);
    return write_atomically(file, pretty_json(obj));
}

std::string expand_user_path(std::string_view text) {
    std::string out;
    std::size_t i = 0;
    if (text.starts_with("~") && (text.size() == 1 || text[1] == '/')) {
        bool found = false;
        const std::string home = env_value("HOME", found);
        if (found) {
            out = home;
            i = 1;
        }
    }
    while (i < text.size()) {
        const char c = text[i];
        if (c == '%') {
            const std::size_t end = text.find('%', i + 1);
            if (end != std::string_view::npos && end > i + 1) {
                bool found = false;
                const std::string v =
                    env_value(std::string(text.substr(i + 1, end - i - 1)), found);
                if (found) {
                    out += v;
                    i = end + 1;
                    continue;
                }
            }
        } else if (c == '$') {
            std::size_t start = i + 1;
            std::size_t end = start;
            bool braced = false;
            if (start < text.size() && text[start] == '{') {
                braced = true;
                ++start;
                end = text.find('}', start);
            } else {
                while (end < text.size() && is_var_char(text[end])) {
                    ++end;
                }
            }
            if (end != std::string_view::npos && end > start) {
                bool found = false;
                const std::string v =
                    env_value(std::string(text.substr(start, end - start)), found);
                if (found) {
                    out += v;
                    i = braced ? end + 1 : end;
                    continue;
                }
            }
        }
        out.push_back(c);
        ++i;
    }
    return out;
}

}  // namespace runicorn::http_plugin::api
