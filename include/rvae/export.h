/* Symbol visibility for rvae's public API, usable from C and C++.
 *
 * The library is built with hidden visibility (-fvisibility=hidden), so only what a public header
 * marks with RVAE_API is exported from the shared library: the C++ API (every public header opens
 * `namespace RVAE_API rvae`, which marks all its declarations) and the C API (rvae/rvae.h marks
 * each function). Internal helpers (declared under src/) and the dependencies compiled in
 * (nlohmann_json) stay hidden: they are not part of the ABI and cannot clash with a consumer's
 * own copies. */
#ifndef RVAE_EXPORT_H
#define RVAE_EXPORT_H

#if defined(__cplusplus) && (defined(__GNUC__) || defined(__clang__))
/* The standard attribute form, because C++ accepts only it between `namespace` and the name. */
#define RVAE_API [[gnu::visibility("default")]]
#elif defined(__GNUC__) || defined(__clang__)
#define RVAE_API __attribute__((visibility("default")))
#else
/* Other toolchains (MSVC's dllexport/dllimport) are not supported yet; a static build works. */
#define RVAE_API
#endif

#endif /* RVAE_EXPORT_H */
