#pragma once

// The asset functions of runicorn._native (native_assets.cpp; sdk-assets), registered by the
// module's init in native.cpp.

#include <Python.h>

/// Adds _assets_call to module `m`. 0 on success, -1 with a Python error set.
int runicorn_python_add_asset_functions(PyObject* m);
