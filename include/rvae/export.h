/* Symbol visibility for rvae's public API, usable from C and C++.
 *
 * RVAE_API marks each public declaration: the C API's functions (rvae/rvae.h), and in the C++ API
 * the classes with out-of-line members and the free functions the library defines. Everything
 * else stays inside the library: on ELF it is built with hidden visibility, and a Windows DLL
 * exports only what is marked dllexport. Internal helpers (declared under src/) and the
 * dependencies compiled in (nlohmann_json) are therefore not part of the ABI and cannot clash
 * with a consumer's own copies.
 *
 * On Windows the same header serves the DLL's build (RVAE_BUILDING_DLL: dllexport), its users
 * (dllimport, the default) and users of the static library (RVAE_STATIC: nothing); the CMake
 * targets and rvae.pc define the right one. A C++ DLL built with mingw-w64 is not usable from
 * MSVC-built C++ (another ABI): there the C API is the stable interface. */
#ifndef RVAE_EXPORT_H
#define RVAE_EXPORT_H

#if defined(_WIN32) || defined(__CYGWIN__)
#if defined(RVAE_STATIC)
#define RVAE_API
#elif defined(RVAE_BUILDING_DLL)
#define RVAE_API __declspec(dllexport)
#else
#define RVAE_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define RVAE_API __attribute__((visibility("default")))
#else
#define RVAE_API
#endif

#endif /* RVAE_EXPORT_H */
