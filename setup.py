"""setup.py: builds the facto._facto extension with the project's CMake for pip.

Metadata lives in pyproject.toml; this file only teaches setuptools to run CMake. The library
and the module are configured in a build folder of their own (under setuptools' build_temp), or,
when FACTO_BUILD_DIR names an already configured CMake build folder of this project, the
_facto target is built there and copied (how the test suite installs without a second build).
Nothing is downloaded: pybind11, NumPy and setuptools come from Debian.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class cmake_build_ext(build_ext):
    def build_extension(self, ext):
        build_dir = os.environ.get("FACTO_BUILD_DIR")
        if build_dir:
            build_dir = Path(build_dir).resolve()
        else:
            build_dir = Path(self.build_temp).resolve() / "cmake"
            subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
                            "-DFACTO_BUILD_PYTHON=ON", "-DFACTO_BUILD_TESTS=OFF", "-DFACTO_BUILD_BENCH=OFF",
                            "-DFACTO_BUILD_CLI=OFF", "-DFACTO_BUILD_EXAMPLES=OFF",
                            f"-DPython3_EXECUTABLE={sys.executable}"], check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(min(os.cpu_count() or 1, 2))
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "_facto", "-j", jobs], check=True)
        built = sorted((build_dir / "python" / "facto").glob("_facto*.so"))
        if not built:
            raise RuntimeError(f"setup.py: the CMake build in {build_dir} produced no _facto extension")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[-1], target)


# setuptools' scratch files (build/, facto.egg-info) go under a git-ignored build folder: the
# CMake one when given (so test runs from different build folders do not share them).
SCRATCH = Path(os.environ.get("FACTO_BUILD_DIR") or ROOT / "build") / "setuptools"
SCRATCH.mkdir(parents=True, exist_ok=True)
setup(
    ext_modules=[Extension("facto._facto", sources=[])],
    cmdclass={"build_ext": cmake_build_ext},
    options={"build": {"build_base": str(SCRATCH)}, "egg_info": {"egg_base": str(SCRATCH)}},
)
