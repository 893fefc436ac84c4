// Where the Hugging Face token comes from when the caller gives none: the same places, in the
// same order, as huggingface_hub (python), so a machine that is logged in works unchanged.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "api/token_policy.hpp"

namespace rvae::detail {

/// Reads one environment variable: nullopt when unset. Injected so tests need no real
/// environment; an empty EnvLookup is an empty environment.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

/// The process environment (getenv). Not safe against concurrent setenv, like getenv itself.
EnvLookup process_env();

/// The largest token file read; a bigger file is not a token file and is ignored.
inline constexpr std::size_t kMaxTokenFileBytes = 64 * 1024;

/// True when `token` can go into an `Authorization: Bearer` header as is: non-empty, printable
/// ASCII (0x21..0x7E) only, so no spaces, control characters (CR/LF injection) or non-ASCII.
bool is_valid_token(std::string_view token);

/// Whose rules make the token file's path: huggingface_hub's on POSIX or on Windows.
enum class PathRules { kPosix, kWindows };

#ifdef _WIN32
inline constexpr PathRules kNativePathRules = PathRules::kWindows;
#else
inline constexpr PathRules kNativePathRules = PathRules::kPosix;
#endif

/// The token file huggingface_hub reads, or nullopt when neither a variable nor a home names
/// one: $HF_TOKEN_PATH if set, else $HF_HOME/token, else $XDG_CACHE_HOME/huggingface/token,
/// else HOME/.cache/huggingface/token. HOME and the separator follow `rules`, as Python's
/// os.path does: on POSIX $HOME and "/"; on Windows %USERPROFILE% (else %HOMEDRIVE%%HOMEPATH%)
/// and "\\". A leading "~" followed by a separator (or alone) in the variables means HOME.
std::optional<std::string> token_file_path(const EnvLookup& env,
                                           PathRules rules = kNativePathRules);

/// The token to send, or "" for none. In order:
///  1. `explicit_token` when non-empty, returned unchanged (the caller checks is_valid_token and
///     reports a bad one rather than silently using another token);
///  2. $HF_TOKEN, else the legacy $HUGGING_FACE_HUB_TOKEN, when non-empty after trimming;
///  3. the token file at token_file_path(env). As in huggingface_hub this is one path: a set
///     HF_TOKEN_PATH whose file is missing does not fall back to HF_HOME. The file must be a
///     regular file of at most kMaxTokenFileBytes.
/// Candidates from steps 2 and 3 are trimmed of surrounding whitespace (spaces, tabs, CR, LF)
/// and skipped when what is left is not is_valid_token. Empty environment values count as
/// unset. Never logs and never reports why a candidate was skipped (that could echo a secret).
std::string resolve_token(const std::string& explicit_token, const EnvLookup& env);

/// The token a Client uses and where it may go: `explicit_token` (any endpoint), else
/// $RVAE_TOKEN trimmed (any endpoint: given for rvae), else what resolve_token finds in Hugging
/// Face's environment (Hugging Face hosts only), else none.
ScopedToken find_token(const std::string& explicit_token, const EnvLookup& env);

}  // namespace rvae::detail
