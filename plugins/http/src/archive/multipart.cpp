#include "multipart.hpp"

#include <algorithm>
#include <cctype>

namespace runicorn::http_plugin::archive {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

/// The value of parameter `key` (lower-case) in a header value "type; a=b; c=\"d\"".
std::optional<std::string> header_param(std::string_view value, std::string_view key) {
    std::size_t pos = value.find(';');
    while (pos != std::string_view::npos) {
        std::string_view rest = value.substr(pos + 1);
        const std::size_t eq = rest.find('=');
        if (eq == std::string_view::npos) {
            return std::nullopt;
        }
        const std::string name = lower(trim(rest.substr(0, eq)));
        rest = trim(rest.substr(eq + 1));
        std::string val;
        std::size_t consumed = 0;
        if (!rest.empty() && rest.front() == '"') {
            std::size_t i = 1;
            for (; i < rest.size() && rest[i] != '"'; ++i) {
                if (rest[i] == '\\' && i + 1 < rest.size()) {
                    ++i;
                }
                val.push_back(rest[i]);
            }
            consumed = std::min(i + 1, rest.size());
        } else {
            consumed = std::min(rest.find(';'), rest.size());
            val = std::string(trim(rest.substr(0, consumed)));
        }
        if (name == key) {
            return val;
        }
        const std::size_t next = rest.substr(consumed).find(';');
        if (next == std::string_view::npos) {
            return std::nullopt;
        }
        pos = static_cast<std::size_t>(rest.data() - value.data()) + consumed + next;
    }
    return std::nullopt;
}

}  // namespace

Result<FormPart> find_form_part(std::string_view content_type, std::string_view body,
                                std::string_view field) {
    const std::string type = lower(trim(content_type.substr(0, content_type.find(';'))));
    if (type != "multipart/form-data") {
        return Status::invalid_argument("expected multipart/form-data");
    }
    const std::optional<std::string> boundary = header_param(content_type, "boundary");
    if (!boundary || boundary->empty() || boundary->size() > 200) {
        return Status::invalid_argument("multipart body without a boundary");
    }
    const std::string delim = "--" + *boundary;
    std::size_t pos = body.find(delim);
    if (pos == std::string_view::npos) {
        return Status::invalid_argument("malformed multipart body");
    }
    while (true) {
        pos += delim.size();
        if (body.substr(pos, 2) == "--") {
            return Status::not_found("no form field '" + std::string(field) + "'");
        }
        if (body.substr(pos, 2) != "\r\n") {
            return Status::invalid_argument("malformed multipart body");
        }
        pos += 2;
        const std::size_t head_end = body.find("\r\n\r\n", pos);
        if (head_end == std::string_view::npos) {
            return Status::invalid_argument("malformed multipart body");
        }
        const std::string_view head = body.substr(pos, head_end - pos);
        const std::size_t content_start = head_end + 4;
        const std::size_t next = body.find("\r\n" + delim, content_start);
        if (next == std::string_view::npos) {
            return Status::invalid_argument("malformed multipart body");
        }
        FormPart part;
        std::size_t line_start = 0;
        while (line_start <= head.size()) {
            std::size_t line_end = head.find("\r\n", line_start);
            if (line_end == std::string_view::npos) {
                line_end = head.size();
            }
            const std::string_view line = head.substr(line_start, line_end - line_start);
            const std::size_t colon = line.find(':');
            if (colon != std::string_view::npos &&
                lower(trim(line.substr(0, colon))) == "content-disposition") {
                const std::string_view value = line.substr(colon + 1);
                part.name = header_param(value, "name").value_or("");
                part.filename = header_param(value, "filename").value_or("");
            }
            line_start = line_end + 2;
        }
        if (part.name == field) {
            part.content = body.substr(content_start, next - content_start);
            return part;
        }
        pos = next + 2;
    }
}

}  // namespace runicorn::http_plugin::archive
