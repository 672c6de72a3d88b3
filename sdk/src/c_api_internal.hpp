#pragma once

// What the C ABI's translation units (c_api.cpp, c_api_artifact.cpp, ...) share: the run handle
// and the error/buffer helpers of SDK.md §3. Not part of the public API.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <runicorn/c/runicorn.h>
#include <runicorn/runicorn.hpp>
#include <runicorn/status.hpp>

/// The C handle: the C++ Run plus strings the info struct points into.
/// Thread safety: safe for concurrent use (the Run is; the strings are fixed at creation).
struct rn_run {
    runicorn::Run run;
    std::string run_dir;
    std::string storage_root;
};

namespace runicorn::sdk::capi {

/// Sets the calling thread's rn_last_error() message; returns `code`.
int fail(int code, std::string_view message) noexcept;
/// RN_OK for an OK status, else fail() with the status's code and message.
int from_status(const Status& s) noexcept;
/// RN_E_INTERNAL "<fn>: unexpected exception" (for catch (...) blocks).
int internal_error(const char* fn) noexcept;
/// Copies `text` and its NUL into a caller buffer (SDK.md §3 buffer protocol): *needed (when not
/// NULL) gets the size with the NUL; out == NULL && cap == 0 asks for no text; a short buffer is
/// RN_E_BUFFER_TOO_SMALL naming `fn` and what already happened.
int write_out(const std::string& text, char* out, std::size_t cap, std::size_t* needed,
              const char* fn, const char* what_happened);

/// Reads a caller struct of `struct_size` bytes into a full local copy (defaults beyond it).
/// False when struct_size cannot even hold itself.
template <class T>
bool copy_in(const T* in, T& out) {
    if (in->struct_size < sizeof(std::uint32_t)) {
        return false;
    }
    std::memcpy(&out, in, std::min<std::size_t>(in->struct_size, sizeof(T)));
    out.struct_size = sizeof(T);
    return true;
}

/// Writes a full local struct into a caller struct of its own struct_size.
template <class T>
bool copy_out(const T& in, T* out) {
    const std::uint32_t size = out->struct_size;
    if (size < sizeof(std::uint32_t)) {
        return false;
    }
    std::memcpy(out, &in, std::min<std::size_t>(size, sizeof(T)));
    out->struct_size = size;
    return true;
}

}  // namespace runicorn::sdk::capi
