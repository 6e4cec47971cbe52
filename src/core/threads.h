// A fixed pool of worker threads for data-parallel loops. The calling thread takes part, so a
// pool of N threads starts N-1 workers. Loops do not nest: a parallel_for body must not start one.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace a3b {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads = 0);  // 0: one per hardware thread
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }

  // Calls fn(i) for every i in [0, n), items handed out one at a time (uneven work).
  void for_each(int64_t n, const std::function<void(int64_t)>& fn);
  // Calls fn(begin, end) on `size()` contiguous slices of [0, n), each a multiple of `grain`.
  void for_range(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void run(const std::function<void()>& job);  // every thread runs job once
  void worker_loop();

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void()>* job_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

}  // namespace a3b
