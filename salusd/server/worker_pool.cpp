#include "server/worker_pool.h"

#include <utility>

namespace salus::server {

WorkerPool::WorkerPool(uv_loop_t *loop, unsigned threads) {
    uv_async_init(loop, &async_, [](uv_async_t *handle) {
        static_cast<WorkerPool *>(handle->data)->run_completions();
    });
    async_.data = this;
    threads_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { worker_main(); });
}

WorkerPool::~WorkerPool() {
    stop();
    join();
}

void WorkerPool::post(Fn work, Fn done) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        queue_.push_back(Task{std::move(work), std::move(done)});
    }
    wake_.notify_one();
}

void WorkerPool::stop() {
    std::deque<Task> dropped;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        dropped.swap(queue_);
    }
    wake_.notify_all();
    if (!async_closed_) {
        async_closed_ = true;
        uv_close(reinterpret_cast<uv_handle_t *>(&async_), nullptr);
    }
    // `dropped` releases the tasks' captures here, on the loop thread.
}

void WorkerPool::join() {
    for (std::thread &t : threads_) {
        if (t.joinable()) t.join();
    }
    std::vector<Fn> orphans;
    std::lock_guard<std::mutex> lock(mutex_);
    orphans.swap(completions_);
}

void WorkerPool::worker_main() {
    for (;;) {
        Task task;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return; // stopping, nothing left
            task = std::move(queue_.front());
            queue_.pop_front();
        }
        task.work();
        task.work = nullptr; // release its captures before handing over
        {
            std::lock_guard<std::mutex> lock(mutex_);
            completions_.push_back(std::move(task.done));
            // Once stop() closed the handle, join() collects what is left.
            if (!stopping_) uv_async_send(&async_);
        }
    }
}

void WorkerPool::run_completions() {
    std::vector<Fn> batch;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        batch.swap(completions_);
    }
    for (Fn &done : batch) done();
}

} // namespace salus::server
