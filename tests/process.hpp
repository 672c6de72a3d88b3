#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace runicorn::test {

/// Environment changes for a child: a value sets the variable, nullopt removes it.
using EnvChanges = std::map<std::string, std::optional<std::string>>;

struct ProcessResult {
    int exit_code = -1;  ///< The exit status, or 128 + signal when killed.
    std::string out;
    std::string err;
};

/// Runs argv to completion (stdin is /dev/null) and captures both output streams.
ProcessResult run_process(const std::vector<std::string>& argv, const EnvChanges& env = {});

/// A child process running in the background with its stdout and stderr piped to us.
/// Thread safety: externally synchronized.
class ChildProcess {
public:
    ChildProcess(const std::vector<std::string>& argv, const EnvChanges& env = {});
    ~ChildProcess();  ///< Kills the child (SIGKILL) if it still runs.
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    /// Reads stdout until a line containing `needle` arrives; returns that line, or nullopt when
    /// the child closes stdout or `timeout` passes first (a safety net, not a synchronisation
    /// delay).
    std::optional<std::string> wait_for_line(const std::string& needle,
                                             std::chrono::milliseconds timeout);
    void signal(int sig);
    /// Waits for exit; returns the result with everything left on both streams.
    ProcessResult wait();

private:
    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::string out_;
    std::string err_;
};

/// Sends one HTTP/1.1 request to 127.0.0.1:port and returns the raw response (status line,
/// headers, body), or "" when the connection fails.
std::string http_request(int port, const std::string& method, const std::string& target,
                         const std::string& host_header = "127.0.0.1");

}  // namespace runicorn::test
