#include "process.hpp"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace runicorn::test {
namespace {

std::vector<std::string> child_environment(const EnvChanges& changes) {
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string kv(*e);
        const auto eq = kv.find('=');
        if (eq != std::string::npos) {
            env[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
    }
    for (const auto& [k, v] : changes) {
        if (v) {
            env[k] = *v;
        } else {
            env.erase(k);
        }
    }
    std::vector<std::string> out;
    for (const auto& [k, v] : env) {
        out.push_back(k + "=" + v);
    }
    return out;
}

pid_t spawn(const std::vector<std::string>& argv, const EnvChanges& changes, int& out_fd,
            int& err_fd) {
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    const auto env = child_environment(changes);
    std::vector<char*> cargv;
    for (const auto& a : argv) {
        cargv.push_back(const_cast<char*>(a.c_str()));
    }
    cargv.push_back(nullptr);
    std::vector<char*> cenv;
    for (const auto& e : env) {
        cenv.push_back(const_cast<char*>(e.c_str()));
    }
    cenv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, 0);
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(cargv[0], cargv.data(), cenv.data());
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    out_fd = out_pipe[0];
    err_fd = err_pipe[0];
    return pid;
}

/// Reads whatever is available on the open fds into the buffers, waiting up to timeout_ms.
void pump(int& out_fd, std::string& out, int& err_fd, std::string& err, int timeout_ms) {
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    if (::poll(fds, 2, timeout_ms) <= 0) {
        return;
    }
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
        int& fd = i == 0 ? out_fd : err_fd;
        if (fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
            continue;
        }
        const ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n > 0) {
            (i == 0 ? out : err).append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            ::close(fd);
            fd = -1;
            fds[i].fd = -1;
        }
    }
}

int decode_status(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const EnvChanges& env) {
    ChildProcess child(argv, env);
    return child.wait();
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const EnvChanges& env) {
    pid_ = spawn(argv, env, out_fd_, err_fd_);
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    if (out_fd_ >= 0) {
        ::close(out_fd_);
    }
    if (err_fd_ >= 0) {
        ::close(err_fd_);
    }
}

std::optional<std::string> ChildProcess::wait_for_line(const std::string& needle,
                                                       std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t scanned = 0;
    while (true) {
        for (auto nl = out_.find('\n', scanned); nl != std::string::npos;
             nl = out_.find('\n', scanned)) {
            std::string line = out_.substr(scanned, nl - scanned);
            scanned = nl + 1;
            if (line.find(needle) != std::string::npos) {
                return line;
            }
        }
        if (out_fd_ < 0 || std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        pump(out_fd_, out_, err_fd_, err_, 100);
    }
}

void ChildProcess::signal(int sig) {
    if (pid_ > 0) {
        ::kill(pid_, sig);
    }
}

ProcessResult ChildProcess::wait() {
    while (out_fd_ >= 0 || err_fd_ >= 0) {
        pump(out_fd_, out_, err_fd_, err_, 1000);
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return ProcessResult{decode_status(status), out_, err_};
}

std::string http_request(int port, const std::string& method, const std::string& target,
                         const std::string& host_header) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return "";
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::close(fd);
        return "";
    }
    const std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_header +
                            "\r\nConnection: close\r\n\r\n";
    (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    std::string resp;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) {
        resp.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return resp;
}

}  // namespace runicorn::test
