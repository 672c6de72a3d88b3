#include "storage_settings.hpp"

#include <cmath>
#include <string>

namespace runicorn::storage {

namespace {

Status invalid(std::string_view key, std::string_view expected) {
    return Status::invalid_argument("invalid setting '/" + std::string(key) +
                                    "' of plugin 'storage': expected " + std::string(expected));
}

Result<bool> boolean(const boost::json::object& config, std::string_view key, bool fallback) {
    const auto* v = config.if_contains(key);
    if (v == nullptr) {
        return fallback;
    }
    if (!v->is_bool()) {
        return invalid(key, "a boolean");
    }
    return v->get_bool();
}

}  // namespace

Result<StorageSettings> parse_storage_settings(const boost::json::object& config) {
    StorageSettings s;
    RUNICORN_ASSIGN_OR_RETURN(s.check_liveness,
                              boolean(config, "check_liveness", s.check_liveness));
    RUNICORN_ASSIGN_OR_RETURN(s.watch, boolean(config, "watch", s.watch));
    RUNICORN_ASSIGN_OR_RETURN(s.write_v06_index,
                              boolean(config, "write_v06_index", s.write_v06_index));
    if (const auto* v = config.if_contains("scan_interval_s")) {
        double seconds = 0;
        if (v->is_int64()) {
            seconds = static_cast<double>(v->get_int64());
        } else if (v->is_uint64()) {
            seconds = static_cast<double>(v->get_uint64());
        } else if (v->is_double()) {
            seconds = v->get_double();
        } else {
            return invalid("scan_interval_s", "a number of seconds greater than 0");
        }
        // At most a year: anything longer overflows nothing but means "never" in practice.
        if (!std::isfinite(seconds) || seconds <= 0 || seconds > 366.0 * 86400) {
            return invalid("scan_interval_s", "a number of seconds greater than 0");
        }
        s.scan_interval = std::chrono::milliseconds(
            std::max<std::int64_t>(1, static_cast<std::int64_t>(std::llround(seconds * 1000))));
    }
    return s;
}

}  // namespace runicorn::storage
