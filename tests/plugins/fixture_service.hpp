#pragma once

#include <string>
#include <string_view>

#include <runicorn/export.hpp>

namespace runicorn::test {

/// The service the fixture plugins register. Thread safety: safe for concurrent use.
class RUNICORN_PLUGIN_API FixtureService {
public:
    static constexpr std::string_view kServiceId = "runicorn.test_good/1";

    virtual ~FixtureService() = default;
    FixtureService(const FixtureService&) = delete;
    FixtureService& operator=(const FixtureService&) = delete;
    FixtureService(FixtureService&&) = delete;
    FixtureService& operator=(FixtureService&&) = delete;

    virtual std::string hello() const = 0;

protected:
    FixtureService() = default;
};

}  // namespace runicorn::test
