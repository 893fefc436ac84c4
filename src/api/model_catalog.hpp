// The metadata of the Open Inference models a client calls: read once per endpoint and shared by
// every call to it (and by its replicas, which must serve the same model), read again only when
// a call finds it stale.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "protocol/open_inference.hpp"
#include "rvae/error.hpp"

namespace rvae::detail {

using MetadataPtr = std::shared_ptr<const protocol::oip::ModelMetadata>;

class ModelCatalog {
 public:
  using Ready = std::function<void(Result<MetadataPtr>)>;
  /// Starts one read of the metadata; reports through the function it is given, once.
  using Fetch = std::function<void(Ready)>;

  /// Calls `ready` with the metadata of `key`: at once when known, else after a read. Calls
  /// asking while a read is under way wait for it instead of reading again. The read is that of
  /// the first caller (its deadline, its cancellation): when it ends Cancelled, the next waiter
  /// reads with its own; any other failure reaches every waiter (and the next call reads again).
  void get(const std::string& key, Fetch fetch, Ready ready);

  /// The metadata of `key` when known now (get() would answer at once with it); else null.
  MetadataPtr known(const std::string& key);

  /// Forgets `stale` as the metadata of `key` (unless another call already replaced it), so the
  /// next get() reads again.
  void forget(const std::string& key, const MetadataPtr& stale);

 private:
  struct Waiter {
    Fetch fetch;
    Ready ready;
  };
  struct Entry {
    MetadataPtr metadata;
    bool reading = false;
    std::vector<Waiter> waiters;
  };
  void read_done(const std::string& key, Result<MetadataPtr> result);

  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace rvae::detail
