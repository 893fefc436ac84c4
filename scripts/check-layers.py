#!/usr/bin/env python3
"""Checks that every include points down the layers (cmake/RvaeLayers.cmake is the one table).

src/ shares one include root, so any include compiles; this is what keeps the layers true:
- a file in src/<layer>/ may include its own layer, the layers RVAE_LAYER_DEPS_<layer> names,
  and the public headers (include/rvae/) of those layers;
- a public header may include the public headers of its own layer and of the layers below it;
- the CLI (tools/) uses the library through its public headers only; the reference endpoint
  (src/testing) too, but for header-only helpers of the layers below the request engine (it is
  a separate library over rvae, so a non-inline internal function would not link against a
  shared librvae: the shared-library consumer test catches that);
- every .cpp under src/<layer>/ is listed in RVAE_SOURCES_<layer> (a file of one platform in the
  `list(APPEND ...)` of its `if(WIN32)` branch), and every listed file exists.
Exits 1 and names each offending include.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The layer each public header belongs to: the one whose code implements it (or, for the
# header-only `request` vocabulary, the layers that build and send requests).
PUBLIC_HEADERS = {
    "bytes.hpp": "core", "error.hpp": "core", "cancel.hpp": "core", "export.h": "core",
    "pending.hpp": "core", "call_window.hpp": "core", "version.h": "core",
    "progress.hpp": "core",
    "tensor.hpp": "tensor",
    "latent_file.hpp": "files",
    "image.hpp": "codec", "image_resize.hpp": "codec",
    "options.hpp": "request", "tiling.hpp": "request", "reply_stream.hpp": "request",
    "presets.hpp": "model", "preview.hpp": "model",
    "client_options.hpp": "api", "retry.hpp": "api", "endpoint_status.hpp": "api",
    "tiled.hpp": "tiling",
    "client.hpp": "client", "rvae.hpp": "everything",
    "rvae.h": "capi",
    "testing/reference_endpoint.hpp": "testing",
}
# The request vocabulary itself stands on these.
REQUEST_DEPS = ["core", "tensor", "codec"]
# Folders outside the library's layers, and the public layers each may use.
CLIENTS_OF_THE_PUBLIC_API = {
    "src/testing": ["core", "tensor", "files", "codec", "http", "request", "testing"],
    "tools": None,  # any public header
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def read_layers():
    text = open(os.path.join(ROOT, "cmake", "RvaeLayers.cmake")).read()
    text = re.sub(r"#[^\n]*", "", text)
    sets = {m.group(1): m.group(2).split() for m in re.finditer(r"set\((\w+)([^)]*)\)", text)}
    # Per-system sources (`if(WIN32)`) are appended: both branches count as listed.
    for m in re.finditer(r"list\(APPEND\s+(\w+)([^)]*)\)", text):
        sets.setdefault(m.group(1), []).extend(m.group(2).split())
    layers = sets["RVAE_LAYERS"]
    deps = {layer: sets.get("RVAE_LAYER_DEPS_" + layer, []) for layer in layers}
    sources = {layer: sets.get("RVAE_SOURCES_" + layer, []) for layer in layers}
    deps["request"] = REQUEST_DEPS
    deps["testing"] = CLIENTS_OF_THE_PUBLIC_API["src/testing"]
    deps["everything"] = layers + ["request"]  # rvae/rvae.hpp, the one header for everything
    return layers, deps, sources


def source_files(folder):
    for base, _, files in os.walk(os.path.join(ROOT, folder)):
        for name in sorted(files):
            if name.endswith((".cpp", ".hpp", ".h", ".c")):
                path = os.path.join(base, name)
                yield os.path.relpath(path, ROOT), open(path, encoding="utf-8").read()


def includes(text):
    for match in INCLUDE.finditer(text):
        yield text.count("\n", 0, match.start()) + 1, match.group(1)


def main():
    layers, deps, sources = read_layers()
    problems = []

    def allowed(layer, target):
        return target == layer or target in deps.get(layer, [])

    def check_public(path, line, header, layer, uses):
        name = header[len("rvae/"):]
        owner = PUBLIC_HEADERS.get(name)
        if owner is None:
            problems.append(f"{path}:{line}: rvae/{name} has no layer in scripts/check-layers.py")
        elif uses is not None and owner != layer and owner not in uses:
            problems.append(f"{path}:{line}: includes rvae/{name} (layer {owner}); {layer} may "
                            f"use {', '.join(uses) or 'nothing'}")

    for layer in layers:
        folder = os.path.join("src", layer)
        listed = set(sources[layer])
        present = set()
        for path, text in source_files(folder):
            if path.endswith(".cpp"):
                present.add(path)
            for line, header in includes(text):
                top = header.split("/")[0]
                if header.startswith("rvae/"):
                    check_public(path, line, header, layer, deps[layer])
                elif top in layers or top == "testing":
                    if not allowed(layer, top):
                        problems.append(f"{path}:{line}: includes {header}; {layer} may use "
                                        f"{', '.join(deps[layer]) or 'nothing'}")
        for path in sorted(present - listed):
            problems.append(f"{path}: not listed in RVAE_SOURCES_{layer} (cmake/RvaeLayers.cmake)")
        for path in sorted(listed - present):
            problems.append(f"{path}: listed in RVAE_SOURCES_{layer} but missing")

    for header_path, text in source_files("include/rvae"):
        name = os.path.relpath(header_path, "include/rvae")
        layer = PUBLIC_HEADERS.get(name)
        if layer is None:
            problems.append(f"{header_path}: a public header with no layer in scripts/check-layers.py")
            continue
        for line, header in includes(text):
            if header.startswith("rvae/"):
                check_public(header_path, line, header, layer, deps.get(layer, []))
            else:
                problems.append(f"{header_path}:{line}: a public header includes {header}")

    for folder, uses in CLIENTS_OF_THE_PUBLIC_API.items():
        for path, text in source_files(folder):
            for line, header in includes(text):
                top = header.split("/")[0]
                if header.startswith("rvae/"):
                    if uses is not None:
                        check_public(path, line, header, "testing", uses)
                elif top in layers and not (uses is not None and top in uses):
                    problems.append(f"{path}:{line}: includes {header}, an internal header of the "
                                    f"library; {folder} may use "
                                    f"{', '.join(uses) if uses else 'the public headers only'}")

    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} include(s) against the layers (cmake/RvaeLayers.cmake)")
        return 1
    print(f"layers: every include points down ({len(layers)} layers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
