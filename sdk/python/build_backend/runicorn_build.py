"""PEP 517 build backend of the runicorn Python package (no network, no third-party packages).

build_wheel packs a staged package directory into a wheel for the running interpreter:

1. ``RUNICORN_BUILD_DIR`` set: ``$RUNICORN_BUILD_DIR/python/runicorn`` (a CMake build tree of
   this repository that built the target ``runicorn_python_package`` for this interpreter);
2. otherwise CMake configures and builds the repository (Release, tests and benchmarks off, only
   the plugins the SDK loads) in ``sdk/python/build/cmake-<tag>`` for ``sys.executable`` and packs
   its staged package. ``RUNICORN_CMAKE_ARGS`` adds configure arguments.
"""

from __future__ import annotations

import base64
import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
PKG_SRC = HERE.parent                # sdk/python
REPO = PKG_SRC.parent.parent         # the repository root
NAME = "runicorn"


def _version() -> str:
    text = (REPO / "CMakeLists.txt").read_text(encoding="utf-8")
    m = re.search(r"project\(runicorn VERSION ([0-9.]+)", text)
    return m.group(1) if m else "0.0.0"


def _tags() -> str:
    impl = "cp" if sys.implementation.name == "cpython" else sys.implementation.name[:2]
    py = f"{impl}{sys.version_info[0]}{sys.version_info[1]}"
    abi = py + getattr(sys, "abiflags", "")
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"{py}-{abi}-{plat}"


def _ext_suffix() -> str:
    return sysconfig.get_config_var("EXT_SUFFIX") or ".so"


def _staged_ok(pkg: pathlib.Path) -> bool:
    return (pkg / f"_native{_ext_suffix()}").is_file() and (pkg / "__init__.py").is_file() \
        and any(pkg.glob("librunicorn_sdk.so*"))


def _build_with_cmake() -> pathlib.Path:
    cmake = shutil.which("cmake")
    if cmake is None:
        raise RuntimeError("runicorn: cmake is needed to build the package (or set "
                           "RUNICORN_BUILD_DIR to a build tree that built runicorn_python_package)")
    tag = _ext_suffix().strip(".").replace(".so", "") or "py"
    build = PKG_SRC / "build" / f"cmake-{tag}"
    args = [cmake, "-S", str(REPO), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
            "-DRUNICORN_BUILD_TESTS=OFF", "-DRUNICORN_BUILD_BENCH=OFF",
            "-DRUNICORN_PLUGIN_HTTP=OFF", "-DRUNICORN_PLUGIN_REMOTE=OFF",
            "-DRUNICORN_PLUGIN_I18N=OFF", f"-DRUNICORN_PYTHON_EXECUTABLE={sys.executable}"]
    if shutil.which("ninja"):
        args += ["-G", "Ninja"]
    args += os.environ.get("RUNICORN_CMAKE_ARGS", "").split()
    subprocess.run(args, check=True, stdout=sys.stderr)
    jobs = str(os.cpu_count() or 2)
    subprocess.run([cmake, "--build", str(build), "-j", jobs, "--target",
                    "runicorn_python_package"], check=True, stdout=sys.stderr)
    return build


def _staged_package() -> pathlib.Path:
    given = os.environ.get("RUNICORN_BUILD_DIR")
    build = pathlib.Path(given).resolve() if given else _build_with_cmake()
    pkg = build / "python" / NAME
    if not _staged_ok(pkg):
        raise RuntimeError(f"runicorn: {pkg} has no _native{_ext_suffix()} for "
                           f"{sys.executable}; build the target runicorn_python_package there "
                           f"(configure with -DRUNICORN_PYTHON_EXECUTABLE={sys.executable})")
    return pkg


def _metadata() -> str:
    readme = (PKG_SRC / "README.md").read_text(encoding="utf-8") \
        if (PKG_SRC / "README.md").exists() else ""
    return (f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {_version()}\n"
            "Summary: Local-first experiment tracker (C++ core), drop-in for Runicorn v0.6\n"
            "Requires-Python: >=3.8\nDescription-Content-Type: text/markdown\n\n" + readme)


def _record_line(arc: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arc},sha256={digest},{len(data)}"


# --- PEP 517 hooks ------------------------------------------------------------------------------
def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    di = pathlib.Path(metadata_directory) / f"{NAME}-{_version()}.dist-info"
    di.mkdir(parents=True, exist_ok=True)
    (di / "METADATA").write_text(_metadata(), encoding="utf-8")
    return di.name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    pkg = _staged_package()
    version = _version()
    tag = _tags()
    name = f"{NAME}-{version}-{tag}.whl"
    dist_info = f"{NAME}-{version}.dist-info"
    records = []
    out = pathlib.Path(wheel_directory) / name
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for path in sorted(pkg.rglob("*")):
            if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            arc = f"{NAME}/{path.relative_to(pkg).as_posix()}"
            data = path.read_bytes()  # symlinks are stored as the files they point to
            info = zipfile.ZipInfo(arc)
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
            records.append(_record_line(arc, data))
        meta = {
            "METADATA": _metadata().encode(),
            "WHEEL": (f"Wheel-Version: 1.0\nGenerator: runicorn_build\nRoot-Is-Purelib: false\n"
                      f"Tag: {tag}\n").encode(),
            "top_level.txt": f"{NAME}\n".encode(),
        }
        for fname, data in meta.items():
            arc = f"{dist_info}/{fname}"
            z.writestr(arc, data)
            records.append(_record_line(arc, data))
        records.append(f"{dist_info}/RECORD,,")
        z.writestr(f"{dist_info}/RECORD", "\n".join(records) + "\n")
    return name


def build_sdist(sdist_directory, config_settings=None):
    raise RuntimeError("runicorn: no sdist; install from the repository (pip install ./sdk/python)")
