#include "api/model_catalog.hpp"

#include <utility>

namespace rvae::detail {

void ModelCatalog::get(const std::string& key, Fetch fetch, Ready ready) {
  MetadataPtr known;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Entry& entry = entries_[key];
    if (entry.metadata) {
      known = entry.metadata;
    } else {
      entry.waiters.push_back({fetch, std::move(ready)});
      if (entry.reading) return;
      entry.reading = true;
    }
  }
  // Outside the lock: `ready` may start a call that asks again.
  if (known) {
    ready(std::move(known));
    return;
  }
  fetch([this, key](Result<MetadataPtr> result) { read_done(key, std::move(result)); });
}

void ModelCatalog::read_done(const std::string& key, Result<MetadataPtr> result) {
  std::vector<Waiter> waiters;
  Fetch next;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Entry& entry = entries_[key];
    if (!result && result.error().code() == ErrorCode::kCancelled && entry.waiters.size() > 1) {
      // Only the reader gave up: the others go on, the next of them reading with its own limits.
      waiters.push_back(std::move(entry.waiters.front()));
      entry.waiters.erase(entry.waiters.begin());
      next = entry.waiters.front().fetch;
    } else {
      entry.reading = false;
      if (result) entry.metadata = *result;
      waiters.swap(entry.waiters);
    }
  }
  for (Waiter& waiter : waiters)
    waiter.ready(result);
  if (next) next([this, key](Result<MetadataPtr> again) { read_done(key, std::move(again)); });
}

MetadataPtr ModelCatalog::known(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = entries_.find(key);
  return found == entries_.end() ? nullptr : found->second.metadata;
}

void ModelCatalog::forget(const std::string& key, const MetadataPtr& stale) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = entries_.find(key);
  if (found != entries_.end() && found->second.metadata == stale) found->second.metadata.reset();
}

}  // namespace rvae::detail
