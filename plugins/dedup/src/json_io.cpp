#include "json_io.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>

#include <boost/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace runicorn::dedup {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

void pad(std::string& out, int n) { out.append(static_cast<std::size_t>(n) * 2, ' '); }

void write_value(std::string& out, const json::value& v, int indent) {
    switch (v.kind()) {
        case json::kind::object: {
            const auto& o = v.get_object();
            if (o.empty()) {
                out += "{}";
                return;
            }
            out += "{\n";
            bool first = true;
            for (const auto& kv : o) {
                out += first ? "" : ",\n";
                first = false;
                pad(out, indent + 1);
                out += json::serialize(json::string_view(kv.key()));
                out += ": ";
                write_value(out, kv.value(), indent + 1);
            }
            out += "\n";
            pad(out, indent);
            out += "}";
            return;
        }
        case json::kind::array: {
            const auto& a = v.get_array();
            if (a.empty()) {
                out += "[]";
                return;
            }
            out += "[\n";
            bool first = true;
            for (const auto& item : a) {
                out += first ? "" : ",\n";
                first = false;
                pad(out, indent + 1);
                write_value(out, item, indent + 1);
            }
            out += "\n";
            pad(out, indent);
            out += "]";
            return;
        }
        case json::kind::double_: {
            const double d = v.get_double();
            if (std::isnan(d)) {
                out += "NaN";
                return;
            }
            if (std::isinf(d)) {
                out += d > 0 ? "Infinity" : "-Infinity";
                return;
            }
            char buf[64];
            const auto r = std::to_chars(buf, buf + sizeof(buf), d);
            std::string s(buf, r.ptr);
            if (s.find_first_of(".e") == std::string::npos) {
                s += ".0";
            }
            out += s;
            return;
        }
        default:
            // Boost.JSON leaves non-ASCII UTF-8 unescaped, as G2 asks.
            out += json::serialize(v);
    }
}

}  // namespace

std::string pretty_json(const json::value& v) {
    std::string out;
    write_value(out, v, 0);
    out += "\n";
    return out;
}

Status write_file_atomic(const fs::path& path, const std::string& text) {
    const auto dir = path.parent_path();
    const auto temp = dir / ("." + path.filename().string() + "." + random_hex(12) + ".tmp");
    auto fd = open_fd(temp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (!fd) {
        return fd.error();
    }
    const auto fail = [&temp](Status s) {
        ::unlink(temp.c_str());
        return s;
    };
    if (auto s = write_all(fd->get(), text.data(), text.size(), temp); !s.is_ok()) {
        return fail(std::move(s));
    }
    if (::fsync(fd->get()) != 0) {
        return fail(errno_status("cannot fsync", temp, errno));
    }
    fd->reset();
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        return fail(errno_status("cannot replace", path, errno));
    }
    return fsync_dir(dir);
}

Result<FileLock> FileLock::acquire(const fs::path& path) {
    RUNICORN_ASSIGN_OR_RETURN(auto fd, open_fd(path, O_RDWR | O_CREAT, 0644));
    int rc = 0;
    do {
        rc = ::flock(fd.get(), LOCK_EX);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        return errno_status("cannot lock", path, errno);
    }
    return FileLock(std::move(fd));
}

}  // namespace runicorn::dedup
