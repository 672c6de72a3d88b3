#include "json_text.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>

namespace runicorn::kernel {
namespace {

std::string location_of(std::string_view text, std::size_t offset) {
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

void pretty_into(const boost::json::value& v, std::string& out, int indent) {
    const auto pad = [&out](int n) { out.append(static_cast<std::size_t>(n) * 2, ' '); };
    if (v.is_object()) {
        const auto& obj = v.get_object();
        if (obj.empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        bool first = true;
        for (const auto& kv : obj) {
            if (!first) {
                out += ",\n";
            }
            first = false;
            pad(indent + 1);
            out += boost::json::serialize(boost::json::string_view(kv.key()));
            out += ": ";
            pretty_into(kv.value(), out, indent + 1);
        }
        out += '\n';
        pad(indent);
        out += '}';
    } else if (v.is_array()) {
        const auto& arr = v.get_array();
        if (arr.empty()) {
            out += "[]";
            return;
        }
        out += "[\n";
        bool first = true;
        for (const auto& item : arr) {
            if (!first) {
                out += ",\n";
            }
            first = false;
            pad(indent + 1);
            pretty_into(item, out, indent + 1);
        }
        out += '\n';
        pad(indent);
        out += ']';
    } else {
        out += boost::json::serialize(v);
    }
}

}  // namespace

Result<boost::json::value> parse_json_text(std::string_view text, std::string_view what) {
    const std::size_t skip = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
    const std::string_view body = text.substr(skip);
    boost::json::stream_parser parser;
    boost::system::error_code ec;
    // write() consumes the whole buffer and reports trailing non-space data as extra_data.
    const std::size_t used = parser.write(body.data(), body.size(), ec);
    if (ec) {
        return Status::invalid_argument(std::string(what) + ": " + location_of(text, skip + used) +
                                        ": " + ec.message());
    }
    parser.finish(ec);
    if (ec) {
        return Status::invalid_argument(std::string(what) + ": " + location_of(text, text.size()) +
                                        ": " + ec.message());
    }
    return parser.release();
}

Result<boost::json::value> read_json_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        if (err == ENOENT) {
            return Status::not_found("'" + path.string() + "' does not exist");
        }
        if (err == EACCES || err == EPERM) {
            return Status::permission_denied("cannot read '" + path.string() + "': " +
                                             std::strerror(err));  // NOLINT(concurrency-mt-unsafe)
        }
        return Status::internal("cannot read '" + path.string() +
                                "': " + std::strerror(err));  // NOLINT(concurrency-mt-unsafe)
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) {
        return Status::internal("cannot read '" + path.string() + "'");
    }
    return parse_json_text(buf.str(), "'" + path.string() + "' is not valid JSON");
}

std::string pretty_json(const boost::json::value& value) {
    std::string out;
    pretty_into(value, out, 0);
    out += '\n';
    return out;
}

}  // namespace runicorn::kernel
