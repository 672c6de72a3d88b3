#include "entry_names.hpp"

#include <cstddef>

namespace runicorn::http_plugin::archive {
namespace {

EntryName refused(std::string reason) {
    EntryName out;
    out.refusal = std::move(reason);
    return out;
}

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

}  // namespace

EntryName normalize_entry_name(std::string_view raw) {
    if (raw.size() > kMaxEntryName) {
        return refused("name longer than 4096 bytes");
    }
    std::string name(raw);
    for (char& c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            return refused("control character in name");
        }
        if (c == '\\') {
            c = '/';
        }
    }
    if (name.empty()) {
        return refused("empty name");
    }
    if (name.size() >= 2 && is_alpha(name[0]) && name[1] == ':') {
        return refused("drive letter");
    }
    if (name.rfind("//", 0) == 0) {
        return refused("UNC path");
    }
    if (name.front() == '/') {
        return refused("absolute path");
    }
    while (name.rfind("./", 0) == 0) {
        name.erase(0, 2);
    }
    EntryName out;
    if (!name.empty() && name.back() == '/') {
        out.trailing_slash = true;
        name.pop_back();
    }
    if (name.empty()) {
        return refused("empty name");
    }
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t end = name.find('/', start);
        if (end == std::string::npos) {
            end = name.size();
        }
        const std::string_view seg(name.data() + start, end - start);
        if (seg.empty()) {
            return refused("empty segment");
        }
        if (seg == "..") {
            return refused("'..' segment");
        }
        if (seg == ".") {
            return refused("'.' segment");
        }
        start = end + 1;
    }
    out.name = std::move(name);
    return out;
}

}  // namespace runicorn::http_plugin::archive
