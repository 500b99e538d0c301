#!/usr/bin/env bash
# install_and_build_examples.sh BUILD_DIR SOURCE_DIR WORK_DIR FASHION_MNIST_H5
# Installs the build into WORK_DIR/prefix, builds examples/ out of tree against it with find_package(Ferry),
# runs the first example on real data, and compiles a program with pkg-config alone.
set -euo pipefail
build=$1 source=$2 work=$3 data=$4
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
for f in include/ferry/ferry.hpp include/ferry/runtime.hpp include/ferry/features.hpp lib/cmake/Ferry/FerryConfig.cmake \
         lib/cmake/Ferry/FerryConfigVersion.cmake lib/pkgconfig/ferry.pc bin/ferry bin/ferry-serve bin/ferry-launch; do
  [[ -e $prefix/$f ]] || { echo "not installed: $f"; exit 1; }
done
ls "$prefix"/lib/libferry.so* >/dev/null
# Internal headers are never installed.
if find "$prefix/include" -name '*.hpp' -path '*roles*' | grep -q .; then echo "internal headers installed"; exit 1; fi

# examples/ as a user builds them: a separate project that finds the installed Ferry.
cmake -S "$source/examples" -B "$work/examples" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
      ${FERRY_EXAMPLES_CMAKE_ARGS:-} >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/examples" -j "$(nproc)" >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
"$work/examples/00_training_loop" "$data" 100 --check

# pkg-config alone (no CMake): compile and run a program against the installed library.
cat >"$work/pc_check.cpp" <<'CPP'
#include <ferry/ferry.hpp>
#include <cstdio>
int main() {
  ferry::Config c = ferry::parse_config("[[pipeline]]\n[pipeline.dataset]\nfiles = \"x.h5\"\nfields = { a = \"/a\" }\n", "inline");
  std::printf("ferry %s, %zu pipeline(s)\n", ferry::kVersion, c.pipelines.size());
  return c.pipelines.size() == 1 ? 0 : 1;
}
CPP
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
g++ -std=c++20 "$work/pc_check.cpp" -o "$work/pc_check" $(pkg-config --cflags --libs ferry)
"$work/pc_check"
echo "installed tree OK: $prefix"
