#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include <sys/types.h>

namespace runicorn::storage {

/// Facts about this host and its processes that meta.json, .heartbeat.json and the liveness
/// check record or compare (FORMAT.md §4.1, §7.2). Linux sources (/proc); every function is safe
/// for concurrent use and never throws.

/// Unix epoch seconds with a fractional part (FORMAT.md G5).
double wall_now() noexcept;

/// This host's name (gethostname); "" when unknown.
std::string local_hostname();

/// The kernel boot id (/proc/sys/kernel/random/boot_id, trimmed); "" when unknown.
std::string local_boot_id();

/// `"<sysname> <release> (<machine>)"` from uname(2), as Python's platform module writes it
/// (e.g. "Linux 6.1.0 (x86_64)").
std::string platform_string();

/// The start time of process `pid` in epoch seconds (from /proc/<pid>/stat, to about 10 ms);
/// nullopt when the process does not exist or /proc cannot tell.
std::optional<double> process_start_time(pid_t pid);

/// True when `pid` names a live process (not a zombie). A pid owned by another user counts as
/// alive.
bool pid_alive(pid_t pid);

/// `n` lowercase hex digits from the kernel CSPRNG (getrandom(2)).
std::string random_hex(std::size_t n);

/// The workspace root when none is given (SDK.md §1.2): the closest directory at or above the
/// current directory that holds a `.git` entry, else the current directory.
std::filesystem::path detect_workspace_root();

}  // namespace runicorn::storage
