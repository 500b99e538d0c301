#!/usr/bin/env python3
"""Finds the functions with internal linkage (static, or in an anonymous namespace) that two sources of one
target both define, or that one source defines internally and another externally.

In a unity build (FERRY_UNITY_BUILD, the default) a target's sources share one translation unit a batch, so a
later source also sees an earlier one's internal names. A type, constant or function defined twice with the
same parameters fails to compile when the two land in one batch: configure once with a batch larger than
any target (-DFERRY_UNITY_BATCH=1000) to see every such clash. A function of the same name with other
parameters compiles, and a call in the later source may pick the earlier source's overload without a word:
this script finds those (and the same-parameter ones), from the objects of a file-by-file build:

  cmake -S . -B build-names -DFERRY_UNITY_BUILD=OFF -DCMAKE_BUILD_TYPE=Debug \\
        -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g0 -fkeep-static-functions" && cmake --build build-names -j
  scripts/check_unity_names.py build-names

It sees functions only (a name with no code has no symbol), compares them by qualified name without
parameters, return type, template arguments or ABI tag, and reads GCC's -fkeep-static-functions objects,
which keep even unused internal functions. It does not see an internal name that hides one from an
enclosing namespace, and it leaves out a template of a named namespace instantiated for an internal type
(internal through its arguments alone). Exit status: 0 when no name is shared, 1 when one is (each printed as
TARGET: NAME: SOURCES), 2 on a usage error.
"""
import collections
import pathlib
import re
import subprocess
import sys

ANON = "(anonymous namespace)::"


def head_of(symbol):
    """The demangled function without its parameter list (the last top-level parenthesis and what follows)
    and without ABI tags."""
    depth, name = 0, symbol
    for i in range(len(symbol) - 1, -1, -1):
        if symbol[i] == ")":
            depth += 1
        elif symbol[i] == "(":
            depth -= 1
            if depth == 0:
                name = symbol[:i]
                break
    return re.sub(r"\[abi:[^\]]*\]", "", name)


def base_name(symbol):
    """The demangled function's qualified name: head_of(symbol) without template arguments and without a return
    type (a template's demangled name has one)."""
    name = head_of(symbol)
    while name.endswith(">") and not name.endswith("operator>"):
        depth = 0
        for i in range(len(name) - 1, -1, -1):
            depth += {">": 1, "<": -1}.get(name[i], 0)
            if depth == 0:
                name = name[:i]
                break
        else:
            break
    depth = 0
    for i in range(len(name) - 1, -1, -1):  # the return type ends at the last space outside <> and ()
        depth += {">": 1, ")": 1, "<": -1, "(": -1}.get(name[i], 0)
        if name[i] == " " and depth == 0 and not name[:i].endswith("operator"):
            return name[i + 1:]
    return name


def internal_by_arguments(symbol, base):
    """A template of a named namespace instantiated for an internal type (dispatch.hpp's for_each over a
    source's anonymous functors): internal only through its template arguments, one per source by design."""
    head = head_of(symbol)
    return ANON not in base and head.endswith(">") and ANON in head


def functions(obj):
    """(internal, external) function names an object file defines, anonymous namespaces left out."""
    out = subprocess.run(["nm", "-C", "--defined-only", str(obj)], capture_output=True, text=True, check=True)
    internal, external = set(), set()
    for line in out.stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) != 3 or parts[1] not in "tT":
            continue
        if "{lambda" in parts[2]:  # a lambda, or a header's template instantiated for one
            continue
        base = base_name(parts[2])
        if parts[1] == "t" and internal_by_arguments(parts[2], base):
            continue
        name = base.replace(ANON, "")
        # Ferry's own names only (ferry::, or an anonymous namespace at global scope): not static initializers,
        # other libraries' templates instantiated for an internal type (std::move<...>), or the static
        # functions of C headers (CUDA's make_half2 in every source that includes cuda_fp16.h). Ferry itself
        # defines no static function at global scope.
        if name.startswith(("_GLOBAL__", "__")) or not (name.startswith("ferry::") or base.startswith(ANON)):
            continue
        (internal if parts[1] == "t" else external).add(name)
    return internal, external


def shared_names(target_dir):
    """name -> sources, for every internal name that more than one source of the target defines."""
    internal, external = collections.defaultdict(set), collections.defaultdict(set)
    for obj in sorted(target_dir.rglob("*.o")):
        mine, theirs = functions(obj)
        source = str(obj.relative_to(target_dir))
        for name in mine:
            internal[name].add(source)
        for name in theirs:
            external[name].add(source)
    found = {}
    for name, sources in internal.items():
        every = sources | external.get(name, set())
        if len(every) > 1:
            found[name] = sorted(every)
    return found


def main():
    if len(sys.argv) != 2 or not pathlib.Path(sys.argv[1], "CMakeCache.txt").is_file():
        print("usage: check_unity_names.py BUILD_DIR (a file-by-file build: FERRY_UNITY_BUILD=OFF)",
              file=sys.stderr)
        return 2
    build = pathlib.Path(sys.argv[1])
    if list(build.rglob("unity_*_cxx.cxx.o")):
        print(f"check_unity_names.py: {build} is a unity build; configure one with -DFERRY_UNITY_BUILD=OFF",
              file=sys.stderr)
        return 2
    count = 0
    for target_dir in sorted(build.rglob("*.dir")):
        for name, sources in sorted(shared_names(target_dir).items()):
            print(f"{target_dir.relative_to(build)}: {name}: {', '.join(sources)}")
            count += 1
    print(f"check_unity_names.py: {count} shared internal name(s)", file=sys.stderr)
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main())
