#include "writer.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

namespace runicorn::sdk {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

/// The longest the writer sleeps while runs are open.
constexpr milliseconds kMaxTick{50};
/// How long the atexit hook waits for the writer thread to stop after the runs are finished.
constexpr milliseconds kStopTimeout{2000};

std::atomic<BackgroundWriter*> g_writer{nullptr};

std::mutex& fork_mutexes_mu() {
    static auto* mu = new std::mutex();
    return *mu;
}
std::vector<std::pair<ForkLockRank, std::mutex*>>& fork_mutexes() {
    static auto* v = new std::vector<std::pair<ForkLockRank, std::mutex*>>();
    return *v;
}

// Signal handling: the handler only stores the signal number; the writer does the work.
std::atomic<int> g_pending_signal{0};
struct sigaction g_old_int {};
struct sigaction g_old_term {};
std::atomic<bool> g_signals_installed{false};

extern "C" void runicorn_on_signal(int sig) {
    g_pending_signal.store(sig, std::memory_order_relaxed);
}

/// Finishes the runs that asked for signal handling, then lets the previous disposition act.
void handle_pending_signal(BackgroundWriter& w) noexcept {
    const int sig = g_pending_signal.exchange(0, std::memory_order_relaxed);
    if (sig == 0) {
        return;
    }
    for (const auto& run : w.runs()) {
        if (run->settings().handle_signals && !run->finished() && !run->inert()) {
            (void)run->finish("interrupted", "signal", sig, false);
        }
    }
    ::sigaction(SIGINT, &g_old_int, nullptr);
    ::sigaction(SIGTERM, &g_old_term, nullptr);
    g_signals_installed.store(false);
    ::kill(::getpid(), sig);
}

void at_exit_hook() noexcept {
    BackgroundWriter* w = g_writer.load();
    if (w == nullptr) {
        return;
    }
    for (const auto& run : w->runs()) {
        if (!run->finished() && !run->inert()) {
            (void)run->finish("finished", "process_exit", 0, false);
        }
    }
    w->stop(kStopTimeout);
}

void lock_fork_mutexes() noexcept {
    fork_mutexes_mu().lock();
    for (const auto& [rank, mu] : fork_mutexes()) {
        mu->lock();
    }
}
void unlock_fork_mutexes() noexcept {
    auto& v = fork_mutexes();
    for (auto it = v.rbegin(); it != v.rend(); ++it) {
        it->second->unlock();
    }
    fork_mutexes_mu().unlock();
}

extern "C" void runicorn_fork_prepare() {
    lock_fork_mutexes();
    BackgroundWriter::instance().lock_for_fork();
}
extern "C" void runicorn_fork_parent() {
    BackgroundWriter::instance().unlock_after_fork();
    unlock_fork_mutexes();
}
extern "C" void runicorn_fork_child() {
    // The child has no writer thread. Its inherited runs become inert (the parent writes their
    // data); the old writer object, whose thread and condition variables belong to the parent,
    // is abandoned and a fresh one serves runs created in the child.
    BackgroundWriter* old = g_writer.load();
    const auto runs = old->runs_for_child();
    for (const auto& run : runs) {
        run->make_inert();
    }
    old->unlock_after_fork();
    unlock_fork_mutexes();
    g_writer.store(new BackgroundWriter());
}

}  // namespace

BackgroundWriter& BackgroundWriter::instance() {
    BackgroundWriter* w = g_writer.load(std::memory_order_acquire);
    if (w != nullptr) {
        return *w;
    }
    static std::once_flag once;
    std::call_once(once, [] {
        if (g_writer.load() == nullptr) {
            g_writer.store(new BackgroundWriter());
        }
    });
    return *g_writer.load(std::memory_order_acquire);
}

void BackgroundWriter::add(std::shared_ptr<RunCore> run) {
    std::lock_guard lock(mu_);
    runs_.push_back(std::move(run));
    if (!running_ && !stop_) {
        stop_ = false;
        running_ = true;
        thread_ = new std::thread([this] { loop(); });
        thread_id_ = thread_->get_id();
    }
    wake_ = true;
    cv_.notify_one();
}

void BackgroundWriter::wake() noexcept {
    {
        std::lock_guard lock(mu_);
        wake_ = true;
    }
    cv_.notify_one();
}

bool BackgroundWriter::must_serve_inline() noexcept {
    std::lock_guard lock(mu_);
    return !running_ || std::this_thread::get_id() == thread_id_;
}

std::vector<std::shared_ptr<RunCore>> BackgroundWriter::runs() {
    std::lock_guard lock(mu_);
    return runs_;
}

std::vector<std::shared_ptr<RunCore>> BackgroundWriter::runs_for_child() {
    // Called in the fork child while mu_ is held by lock_for_fork.
    return runs_;
}

void BackgroundWriter::stop(milliseconds timeout) noexcept {
    std::unique_lock lock(mu_);
    if (!running_) {
        return;
    }
    stop_ = true;
    cv_.notify_one();
    if (std::this_thread::get_id() == thread_id_) {
        return;  // exit() called from the writer thread itself: it ends when it returns
    }
    const bool exited = exited_cv_.wait_for(lock, timeout, [this] { return !running_; });
    std::thread* t = thread_;
    thread_ = nullptr;
    lock.unlock();
    if (exited && t != nullptr) {
        t->join();
        delete t;
    }
    // Otherwise the thread is stuck in a store call: leave it (and its object) to process exit.
}

void BackgroundWriter::lock_for_fork() noexcept {
    mu_.lock();
    fork_locked_ = runs_;
    for (const auto& run : fork_locked_) {
        run->queue_mutex().lock();
    }
}

void BackgroundWriter::unlock_after_fork() noexcept {
    for (auto it = fork_locked_.rbegin(); it != fork_locked_.rend(); ++it) {
        (*it)->queue_mutex().unlock();
    }
    fork_locked_.clear();
    mu_.unlock();
}

void BackgroundWriter::loop() noexcept {
    std::unique_lock lock(mu_);
    while (!stop_) {
        milliseconds tick = kMaxTick;
        for (const auto& r : runs_) {
            tick = std::min(tick, r->settings().flush_interval);
        }
        tick = std::max(tick, milliseconds{1});
        if (runs_.empty()) {
            cv_.wait(lock, [this] { return stop_ || wake_; });
        } else {
            cv_.wait_for(lock, tick, [this] { return stop_ || wake_; });
        }
        wake_ = false;
        if (stop_) {
            break;
        }
        std::vector<std::shared_ptr<RunCore>> runs = runs_;
        lock.unlock();
        handle_pending_signal(*this);
        const auto now = SteadyClock::now();
        for (const auto& r : runs) {
            r->service_if_due(now);
        }
        runs.clear();
        lock.lock();
        std::erase_if(runs_,
                      [](const std::shared_ptr<RunCore>& r) { return r->closed() || r->inert(); });
    }
    running_ = false;
    exited_cv_.notify_all();
}

void install_process_hooks() {
    static std::once_flag once;
    std::call_once(once, [] {
        (void)BackgroundWriter::instance();
        register_fork_mutex(&warning_mutex(), ForkLockRank::kDefaultHandler);
        register_fork_mutex(&process_warning_gate().mutex(), ForkLockRank::kProcessGate);
        std::atexit([] { at_exit_hook(); });
        ::pthread_atfork(&runicorn_fork_prepare, &runicorn_fork_parent, &runicorn_fork_child);
    });
}

void install_signal_handlers() {
    if (g_signals_installed.exchange(true)) {
        return;
    }
    struct sigaction sa {};
    sa.sa_handler = &runicorn_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &sa, &g_old_int);
    ::sigaction(SIGTERM, &sa, &g_old_term);
}

void register_fork_mutex(std::mutex* mu, ForkLockRank rank) {
    std::lock_guard lock(fork_mutexes_mu());
    auto& v = fork_mutexes();
    for (const auto& e : v) {
        if (e.second == mu) {
            return;
        }
    }
    v.emplace_back(rank, mu);
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
        return static_cast<int>(a.first) < static_cast<int>(b.first);
    });
}

}  // namespace runicorn::sdk
