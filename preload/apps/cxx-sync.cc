// SPDX-License-Identifier: MIT
/*
 * A C++ program that uses the standard library's synchronization the way applications do:
 * std::mutex and std::condition_variable in a bounded producer/consumer queue, std::shared_mutex
 * for a table that readers share and writers update, std::call_once. libstdc++ builds them on
 * pthread_mutex_t, pthread_cond_t, pthread_rwlock_t and pthread_once_t. Prints totals that do
 * not depend on the interleaving, so that its output under ksync-run equals its output without.
 */
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace {

class BoundedQueue {
public:
	explicit BoundedQueue(size_t cap) : cap_(cap) {}

	void push(uint64_t v)
	{
		std::unique_lock<std::mutex> lk(m_);
		not_full_.wait(lk, [&] { return q_.size() < cap_; });
		q_.push_back(v);
		not_empty_.notify_one();
	}

	bool pop(uint64_t &v)
	{
		std::unique_lock<std::mutex> lk(m_);
		not_empty_.wait(lk, [&] { return !q_.empty() || closed_; });
		if (q_.empty())
			return false;
		v = q_.front();
		q_.pop_front();
		not_full_.notify_one();
		return true;
	}

	void close()
	{
		std::lock_guard<std::mutex> lk(m_);
		closed_ = true;
		not_empty_.notify_all();
	}

private:
	std::mutex m_;
	std::condition_variable not_full_, not_empty_;
	std::deque<uint64_t> q_;
	size_t cap_;
	bool closed_ = false;
};

std::once_flag once;
int once_runs;

} // namespace

int main()
{
	const int producers = 3, consumers = 3, items = 40000;
	BoundedQueue q(16);
	std::vector<std::thread> ts;
	std::vector<uint64_t> sums(consumers);
	std::map<int, uint64_t> table;
	std::shared_mutex table_lock;
	uint64_t reads = 0;
	std::mutex reads_lock;

	for (int p = 0; p < producers; p++)
		ts.emplace_back([&, p] {
			std::call_once(once, [] { once_runs++; });
			for (int i = 0; i < items; i++)
				q.push((uint64_t)p * items + i);
		});
	for (int c = 0; c < consumers; c++)
		ts.emplace_back([&, c] {
			uint64_t v;

			while (q.pop(v)) {
				sums[c] += v;
				if (v % 64 == 0) {
					std::unique_lock<std::shared_mutex> w(table_lock);
					table[(int)(v % 1000)] += v;
				} else {
					std::shared_lock<std::shared_mutex> r(table_lock);
					auto it = table.find((int)(v % 1000));
					std::lock_guard<std::mutex> g(reads_lock);
					reads += it == table.end() ? 0 : 1;
				}
			}
		});
	for (int p = 0; p < producers; p++)
		ts[p].join();
	q.close();
	for (int c = 0; c < consumers; c++)
		ts[producers + c].join();

	uint64_t total = 0, table_total = 0;
	for (uint64_t s : sums)
		total += s;
	for (auto &kv : table)
		table_total += kv.second;
	uint64_t n = (uint64_t)producers * items;
	std::printf("items %llu sum %llu (expected %llu)\n", (unsigned long long)n,
		    (unsigned long long)total, (unsigned long long)(n * (n - 1) / 2));
	std::printf("table: %zu keys, total %llu; call_once ran %d time(s)\n", table.size(),
		    (unsigned long long)table_total, once_runs);
	return total == n * (n - 1) / 2 && once_runs == 1 ? 0 : 1;
}
