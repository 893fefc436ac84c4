// rvae_cancel_token: a C handle on rvae::CancelToken. Calls copy the token (its state is
// shared), so freeing the handle never pulls the flag from under a running call.
#include <new>

#include "capi/capi.hpp"

extern "C" {

rvae_cancel_token* rvae_cancel_token_new(void) {
  try {
    return new rvae_cancel_token{};
  } catch (...) {
    return nullptr;
  }
}

void rvae_cancel_token_cancel(rvae_cancel_token* t) {
  if (t == nullptr) return;
  try {
    t->token.cancel();
  } catch (...) {
    // A cancel callback failed (out of memory); the flag itself is set before they run.
  }
}

int rvae_cancel_token_is_cancelled(const rvae_cancel_token* t) {
  return t && t->token.cancelled() ? 1 : 0;
}

void rvae_cancel_token_free(rvae_cancel_token* t) {
  delete t;
}

}  // extern "C"
