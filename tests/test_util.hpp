#pragma once

#include <runicorn/testing/temp_dir.hpp>

namespace runicorn::test {

/// The shared test helper under the name the cross-component tests use.
using TempDir = ::runicorn::testing::TempDir;

}  // namespace runicorn::test
