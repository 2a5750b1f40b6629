// Worker threads for everything too slow for the event loop: iterations and
// session creation. Work runs on a worker; its completion runs afterwards on
// the loop thread, woken through a uv_async handle.
#pragma once

#include <uv.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace salus::server {

class WorkerPool {
  public:
    using Fn = std::function<void()>;

    // Starts `threads` workers; completions run on `loop`.
    WorkerPool(uv_loop_t *loop, unsigned threads);
    ~WorkerPool(); // stop() and join() if still needed
    WorkerPool(const WorkerPool &) = delete;
    WorkerPool &operator=(const WorkerPool &) = delete;

    unsigned size() const { return static_cast<unsigned>(threads_.size()); }

    // Loop thread only. `work` must not throw.
    void post(Fn work, Fn done);

    // Loop thread: refuses new work, drops work not yet started (without
    // running its completion) and closes the async handle so the loop can end.
    void stop();
    // After the loop has ended: waits for work in flight, then drops the
    // completions nobody will run, releasing what they hold.
    void join();

  private:
    struct Task {
        Fn work;
        Fn done;
    };

    void worker_main();
    void run_completions();

    uv_async_t async_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Task> queue_;      // waiting for a worker
    std::vector<Fn> completions_; // waiting for the loop
    bool stopping_ = false;
    bool async_closed_ = false;
    std::vector<std::thread> threads_;
};

} // namespace salus::server
