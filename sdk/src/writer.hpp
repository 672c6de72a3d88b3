#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "run_core.hpp"

namespace runicorn::sdk {

/// The one background writer thread of the process (SDK.md §1.6): it serves every open run,
/// waking at least every flush_interval (the smallest of the runs', at most 50 ms) and when a run
/// asks (flush, finish, a 1 MiB batch). A run leaves it once closed. The thread starts with the
/// first run.
///
/// The instance is created on first use and never destroyed (runs can be finished from atexit
/// hooks after static destructors); a fork child gets a fresh one (see install_process_hooks).
///
/// Thread safety: safe for concurrent use.
class BackgroundWriter {
public:
    static BackgroundWriter& instance();

    BackgroundWriter() = default;
    ~BackgroundWriter() = default;
    BackgroundWriter(const BackgroundWriter&) = delete;
    BackgroundWriter& operator=(const BackgroundWriter&) = delete;
    BackgroundWriter(BackgroundWriter&&) = delete;
    BackgroundWriter& operator=(BackgroundWriter&&) = delete;

    /// Adds a run and starts the thread if needed.
    void add(std::shared_ptr<RunCore> run);
    /// Wakes the thread now. Never call it while holding a run's queue lock.
    void wake() noexcept;
    /// True when the calling thread is the writer thread, or no writer thread runs (then the
    /// caller must do the writer's work itself).
    bool must_serve_inline() noexcept;
    /// The runs it serves now.
    std::vector<std::shared_ptr<RunCore>> runs();
    /// Stops the thread; waits up to `timeout` for it (a stalled store call is left behind).
    void stop(std::chrono::milliseconds timeout) noexcept;

    /// fork() support: lock/unlock the writer and every run queue.
    void lock_for_fork() noexcept;
    void unlock_after_fork() noexcept;
    /// In the fork child, while lock_for_fork's locks are held: the runs inherited.
    std::vector<std::shared_ptr<RunCore>> runs_for_child();

private:
    void loop() noexcept;

    std::mutex mu_;
    std::condition_variable cv_;
    std::condition_variable exited_cv_;
    std::vector<std::shared_ptr<RunCore>> runs_;
    std::thread* thread_ = nullptr;  // leaked at stop/fork when it cannot be joined
    std::thread::id thread_id_;
    bool wake_ = false;
    bool stop_ = false;
    bool running_ = false;
    std::vector<std::shared_ptr<RunCore>> fork_locked_;
};

/// Installs once per process: the atexit hook that finishes open runs ("finished",
/// exit_reason "process_exit") and stops the writer, and the pthread_atfork handlers (a child's
/// inherited runs become inert, the child gets a fresh writer).
void install_process_hooks();

/// Installs the SIGINT/SIGTERM handlers once (InitOptions::handle_signals, SDK.md §5): the
/// writer finishes the runs that asked for it as "interrupted" (exit_reason "signal"), restores
/// the previous handlers and raises the signal again.
void install_signal_handlers();

/// The order in which the fork handlers lock the SDK's process-wide mutexes, before the writer's
/// and the run queues'. It is the order in which normal code may nest them.
enum class ForkLockRank : int { kGlobals = 0, kHosts = 1, kDefaultHandler = 2, kProcessGate = 3 };

/// Registers a mutex the fork handlers lock (idempotent).
void register_fork_mutex(std::mutex* mu, ForkLockRank rank);

}  // namespace runicorn::sdk
