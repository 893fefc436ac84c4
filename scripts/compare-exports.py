#!/usr/bin/env python3
"""Compares what a Windows librvae.dll exports with what the Linux librvae.so exports.

  scripts/compare-exports.py LIBRVAE_SO LIBRVAE_DLL

Both lists are read with the binutils of their platform (nm -D for the .so, the mingw objdump's
export table for the DLL), demangled, and normalised for what differs by platform only: LLP64
(`long` is 32 bits on Windows, so int64_t is `long long`) and libstdc++'s __cxx11 ABI tag.
Instantiations of standard-library templates and "typeinfo name" entries are reported but not
counted (compilers differ in which weak copies they export; neither is rvae's API). Exits 1 when
a symbol of rvae's API (rvae_*, rvae::...) is exported by one and not the other.
"""
import re
import subprocess
import sys


def run(command):
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def demangle(names):
    return subprocess.run(
        ["c++filt"], input="\n".join(names), check=True, capture_output=True, text=True
    ).stdout.splitlines()


def so_exports(path):
    names = []
    for line in run(["nm", "-D", "--defined-only", path]).splitlines():
        parts = line.split()
        if len(parts) == 3:
            names.append(parts[2])
    return demangle(names)


def dll_exports(path):
    text = run(["x86_64-w64-mingw32-objdump", "-p", path])
    table = text.split("[Ordinal/Name Pointer] Table", 1)
    if len(table) != 2:
        sys.exit(f"{path}: no export table")
    names = []
    for line in table[1].splitlines()[1:]:
        match = re.match(r"\s*\[\s*\d+\]\s+(\S+)", line)
        if not match:
            break
        names.append(match.group(1))
    return demangle(names)


def normalise(name):
    name = name.replace("unsigned long long", "unsigned long")
    name = re.sub(r"\blong long\b", "long", name)
    return name.replace("std::__cxx11::", "std::").replace("[abi:cxx11]", "")


def qualified_name(name):
    """The function's own name in a demangled signature: before its parameters, after any
    return type (a template instance is printed with its return type first)."""
    depth, head = 0, ""
    for char in name:
        if char == "<":
            depth += 1
        elif char == ">":
            depth -= 1
        elif char == "(" and depth == 0:
            break
        head += char if depth == 0 or char not in " " else "_"
    return head.split(" ")[-1]


def is_api(name):
    if name.startswith("rvae_"):
        return True
    if name.startswith(("typeinfo for rvae::", "vtable for rvae::")):
        return True
    if name.startswith("typeinfo name for "):
        # mingw's libstdc++ compares type_info by name string and need not export it.
        return False
    return qualified_name(name).startswith("rvae::")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    so = {normalise(n) for n in so_exports(sys.argv[1])}
    dll = {normalise(n) for n in dll_exports(sys.argv[2])}
    failed = False
    for side, names in (("only in the .so", so - dll), ("only in the DLL", dll - so)):
        for name in sorted(names):
            counted = is_api(name)
            failed = failed or counted
            print(f"{side}{'' if counted else ' (not API, ignored)'}: {name}")
    api = sorted(n for n in so & dll if is_api(n))
    c_api = [n for n in api if n.startswith("rvae_")]
    print(f"both export {len(api)} API symbols ({len(c_api)} of the C API)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
