#include "tolerant_json.hpp"

#include <string>

#include <boost/json/parse.hpp>

#include "file_ops.hpp"
#include <fcntl.h>

namespace runicorn::dedup {
namespace json = boost::json;

namespace {

bool starts_with_at(std::string_view s, std::size_t i, std::string_view token) {
    return s.substr(i, token.size()) == token;
}

}  // namespace

Result<json::value> parse_tolerant_json(std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) {
        text.remove_prefix(3);
    }
    std::string out;
    out.reserve(text.size());
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            out += c;
            if (c == '\\' && i + 1 < text.size()) {
                out += text[++i];
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (starts_with_at(text, i, "NaN")) {
            out += "null";
            i += 2;
            continue;
        } else if (starts_with_at(text, i, "-Infinity")) {
            out += "null";
            i += 8;
            continue;
        } else if (starts_with_at(text, i, "Infinity")) {
            out += "null";
            i += 7;
            continue;
        }
        out += c;
    }
    boost::system::error_code ec;
    json::value v = json::parse(out, ec);
    if (ec) {
        return Status::invalid_argument("not valid JSON: " + ec.message());
    }
    return v;
}

Result<std::string> read_file(const std::filesystem::path& path) {
    RUNICORN_ASSIGN_OR_RETURN(auto fd, open_fd(path, O_RDONLY));
    std::string text;
    char buf[65536];
    for (;;) {
        RUNICORN_ASSIGN_OR_RETURN(auto n, read_some(fd.get(), buf, sizeof(buf), path));
        if (n == 0) {
            break;
        }
        text.append(buf, n);
    }
    return text;
}

Result<json::value> read_json_file(const std::filesystem::path& path) {
    RUNICORN_ASSIGN_OR_RETURN(auto text, read_file(path));
    auto v = parse_tolerant_json(text);
    if (!v) {
        return v.error().with_context("reading '" + path.string() + "'");
    }
    return v;
}

}  // namespace runicorn::dedup
