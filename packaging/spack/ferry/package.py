# Spack recipe for Ferry. Use it from a repo of your own:
#   spack repo create myrepo && cp -r packaging/spack/ferry myrepo/packages/
#   spack install ferry+cuda cuda_arch=90 ^openmpi fabrics=ucx
from spack.package import *


class Ferry(CMakePackage, CudaPackage):
    """Data staging for deep-learning jobs on HPC systems: samples read once from HDF5, transformed with
    Kokkos, cached in UCX-registered memory shared by several training pipelines, and handed to the
    training ranks of the same MPI job."""

    homepage = "https://example.invalid/ferry"
    git = "https://example.invalid/ferry.git"

    version("main", branch="main")
    version("0.1.0", branch="main")

    variant("nccl", default=False, when="+cuda", description="Device-resident batches between GPUs with NCCL")
    variant("tests", default=False, description="Build the test suite")
    variant("examples", default=True, description="Build the numbered examples")
    variant("perf", default=False, description="Build the benchmarks in perf/")

    depends_on("cmake@3.25:", type="build")
    depends_on("cxx", type="build")
    depends_on("c", type="build")

    depends_on("mpi")
    depends_on("ucx")
    depends_on("hdf5+mpi")
    depends_on("kokkos")
    depends_on("kokkos+cuda", when="+cuda")
    depends_on("tomlplusplus")
    depends_on("cli11")
    depends_on("spdlog")
    depends_on("fmt")
    depends_on("zlib-api")
    depends_on("xxhash@0.8:")
    depends_on("nccl", when="+nccl")
    depends_on("googletest", type="build", when="+tests")
    depends_on("benchmark", type="build", when="+perf")

    def cmake_args(self):
        spec = self.spec
        args = [
            self.define("FERRY_USE_CUDA", "ON" if spec.satisfies("+cuda") else "OFF"),
            self.define("FERRY_USE_NCCL", "ON" if spec.satisfies("+nccl") else "OFF"),
            self.define_from_variant("FERRY_BUILD_TESTS", "tests"),
            self.define_from_variant("FERRY_BUILD_EXAMPLES", "examples"),
            self.define_from_variant("FERRY_BUILD_PERF", "perf"),
            self.define("Kokkos_ROOT", spec["kokkos"].prefix),
        ]
        if spec.satisfies("+cuda"):
            archs = spec.variants["cuda_arch"].value
            if archs and archs[0] != "none":
                args.append(self.define("CMAKE_CUDA_ARCHITECTURES", ";".join(archs)))
        return args
