"""`pip install --no-build-isolation .` into a fresh virtual environment, offline.

The venv sees Debian's packages (--system-site-packages: NumPy, setuptools, wheel); --no-index
makes any download attempt an error. FACTO_BUILD_DIR (set by ctest) lets setup.py reuse the
project's CMake build folder instead of building the library a second time.
"""
import os
import re
import subprocess
import venv
from pathlib import Path

import pytest

import facto
from conftest import REPO


def test_versions_agree():
    cmake = re.search(r"project\(facto VERSION ([0-9.]+)", (REPO / "CMakeLists.txt").read_text()).group(1)
    pyproject = re.search(r'^version = "([0-9.]+)"', (REPO / "pyproject.toml").read_text(), re.M).group(1)
    assert facto.__version__ == cmake == pyproject


def test_pip_install_offline_into_a_venv(tmp_path):
    build_dir = os.environ.get("FACTO_BUILD_DIR")
    if not build_dir:
        pytest.skip("FACTO_BUILD_DIR (a configured CMake build folder) is not set: run through ctest")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    env = {**os.environ, "FACTO_BUILD_DIR": build_dir, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)  # the installed package, not the build tree's
    done = subprocess.run([str(python), "-m", "pip", "install", "--no-build-isolation", "--no-index", str(REPO)],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    check = ("import facto, numpy, pathlib; p = pathlib.Path(facto.__file__).parent; "
             "print(p); print(sorted(f.name for f in p.iterdir() if f.suffix in ('.pyi', '.typed'))); "
             "print(facto.cp_als(numpy.random.default_rng(0).random((4, 5, 6)), 2, max_iters=5).iters)")
    done = subprocess.run([str(python), "-c", check], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    where, stubs, iters = done.stdout.split("\n")[:3]
    assert Path(where).resolve().is_relative_to(env_dir.resolve())
    assert stubs == "['__init__.pyi', 'py.typed']"
    assert iters == "5"
