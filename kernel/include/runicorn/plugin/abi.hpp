#pragma once

#include <cstdint>
#include <string>

#include <boost/config.hpp>
#include <boost/version.hpp>

/// The plugin ABI version and build tag. A plugin exports both as data (never as code), so the
/// kernel checks them before it calls anything in the plugin:
///   - the major must equal the kernel's; the plugin's minor must not exceed the kernel's;
///   - the build tag (compiler, Boost version, libstdc++ ABI, debug iterators, sanitizers) must
///     match exactly, because std::string, std::shared_ptr and boost::json::value cross the
///     boundary.
/// A change that breaks existing plugins bumps kAbiMajor; a change that only appends (a new service
/// header, a new method at the end of a new interface version) bumps kAbiMinor.

namespace runicorn::plugin {

struct AbiVersion {
    std::uint16_t major = 0;
    std::uint16_t minor = 0;

    /// Packed form exported by plugins: major in the high 16 bits.
    constexpr std::uint32_t packed() const noexcept {
        return (static_cast<std::uint32_t>(major) << 16U) | minor;
    }
    static constexpr AbiVersion unpack(std::uint32_t v) noexcept {
        return {static_cast<std::uint16_t>(v >> 16U), static_cast<std::uint16_t>(v & 0xFFFFU)};
    }
    std::string to_string() const { return std::to_string(major) + "." + std::to_string(minor); }

    friend constexpr bool operator==(AbiVersion a, AbiVersion b) noexcept {
        return a.major == b.major && a.minor == b.minor;
    }
};

/// The ABI this kernel and these headers implement.
inline constexpr AbiVersion kAbiVersion{1, 0};

/// True when a plugin built for `plugin` may be loaded by a kernel implementing `kernel`.
constexpr bool abi_compatible(AbiVersion kernel, AbiVersion plugin) noexcept {
    return kernel.major == plugin.major && plugin.minor <= kernel.minor;
}

#define RUNICORN_ABI_STRINGIFY_IMPL(x) #x
#define RUNICORN_ABI_STRINGIFY(x) RUNICORN_ABI_STRINGIFY_IMPL(x)

#if defined(__clang__)
#define RUNICORN_ABI_COMPILER \
    "clang-" RUNICORN_ABI_STRINGIFY(__clang_major__) "." RUNICORN_ABI_STRINGIFY(__clang_minor__)
#elif defined(__GNUC__)
#define RUNICORN_ABI_COMPILER \
    "gcc-" RUNICORN_ABI_STRINGIFY(__GNUC__) "." RUNICORN_ABI_STRINGIFY(__GNUC_MINOR__)
#else
#define RUNICORN_ABI_COMPILER "unknown-compiler"
#endif

#if defined(_GLIBCXX_USE_CXX11_ABI)
#define RUNICORN_ABI_CXX11 RUNICORN_ABI_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#else
#define RUNICORN_ABI_CXX11 "none"
#endif

#if defined(_GLIBCXX_DEBUG)
#define RUNICORN_ABI_DEBUG_ITER "1"
#else
#define RUNICORN_ABI_DEBUG_ITER "0"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define RUNICORN_ABI_ASAN ";asan"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RUNICORN_ABI_ASAN ";asan"
#endif
#endif
#ifndef RUNICORN_ABI_ASAN
#define RUNICORN_ABI_ASAN ""
#endif

/// Everything that must match between the kernel and a plugin for the C++ types that cross the
/// boundary to have the same layout. Compared as a string, exactly.
inline constexpr char kBuildTag[] = RUNICORN_ABI_COMPILER ";boost-" RUNICORN_ABI_STRINGIFY(
    BOOST_VERSION) ";cxx11abi-" RUNICORN_ABI_CXX11
                   ";debug-iterators-" RUNICORN_ABI_DEBUG_ITER RUNICORN_ABI_ASAN;

/// The three alias names every plugin library exports (STYLE.md rule 22).
inline constexpr char kAbiVersionSymbol[] = "runicorn_plugin_abi_version";
inline constexpr char kBuildTagSymbol[] = "runicorn_plugin_build_tag";
inline constexpr char kFactorySymbol[] = "runicorn_create_plugin";

}  // namespace runicorn::plugin
