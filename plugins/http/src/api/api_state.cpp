#include "api_state.hpp"

#include <utility>

namespace runicorn::http_plugin::api {

ApiState::ApiState(ApiOptions options) : options_(std::move(options)) {
    if (options_.store != nullptr) {
        stats_ = std::make_unique<StorageStatsCache>(options_.store, options_.storage_root);
    }
}

}  // namespace runicorn::http_plugin::api
