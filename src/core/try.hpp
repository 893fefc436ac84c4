// Error propagation for rvae::Result: one macro each for "check" and "check and take the value",
// so a failure is returned unchanged (code, message, HTTP status, server message, retryable).
// Internal: the public API returns Results but never needs to propagate them for the caller.
#pragma once

#include <utility>

#include "rvae/error.hpp"

// Both macros are plain statements (no GNU statement-expressions, which -Wpedantic flags) and
// evaluate `expr` exactly once. Their temporary is named after the line, so several uses in one
// scope do not collide or shadow (-Wshadow); hence one use per line.
#define RVAE_TRY_CONCAT_INNER_(a, b) a##b
#define RVAE_TRY_CONCAT_(a, b) RVAE_TRY_CONCAT_INNER_(a, b)
#define RVAE_TRY_TMP_(name) RVAE_TRY_CONCAT_(name, __LINE__)

/// RVAE_TRY(expr): evaluates `expr` (a Result<void> or Result<T>) and returns its Error from the
/// enclosing function (which returns some Result) when it failed; a value is discarded. The
/// result is bound by reference, not copied, so RVAE_TRY(an_existing_result) only checks it.
/// Variadic so that commas inside `expr` (template arguments) need no extra parentheses.
#define RVAE_TRY(...) RVAE_TRY_IMPL_(RVAE_TRY_TMP_(rvae_try_result_), __VA_ARGS__)
#define RVAE_TRY_IMPL_(tmp, ...)                                           \
  do {                                                                     \
    auto&& tmp = (__VA_ARGS__);                                            \
    if (!tmp.has_value()) return std::forward<decltype(tmp)>(tmp).error(); \
  } while (false)

/// RVAE_ASSIGN_OR_RETURN(lhs, expr): evaluates `expr` (a Result<T>); on an error returns it from
/// the enclosing function, else `lhs = value`. `lhs` may declare (`auto tensor`,
/// `const Shape& shape`) or name an existing object (`preset.model_id`); a temporary result's
/// value is moved, an lvalue result's copied. Expands to several statements in the enclosing
/// scope (the declared `lhs` must outlive it), so it cannot be the body of an unbraced `if`.
/// A type with a comma in `lhs` needs an alias or `auto`.
#define RVAE_ASSIGN_OR_RETURN(lhs, ...) \
  RVAE_ASSIGN_OR_RETURN_IMPL_(RVAE_TRY_TMP_(rvae_assign_result_), lhs, __VA_ARGS__)
#define RVAE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, ...)                       \
  auto&& tmp = (__VA_ARGS__);                                            \
  if (!tmp.has_value()) return std::forward<decltype(tmp)>(tmp).error(); \
  lhs = std::forward<decltype(tmp)>(tmp).value()
