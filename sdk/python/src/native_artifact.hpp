#pragma once

// The artifact functions of runicorn._native (native_artifact.cpp), registered by the module's
// init in native.cpp.

#include <runicorn/c/runicorn.h>

#include <Python.h>

/// The rn_run* behind a runicorn.Run (a runicorn._native.RunBase), or nullptr with a TypeError set
/// when `obj` is not one (defined in native.cpp). A closed run gives nullptr with a ValueError.
rn_run* runicorn_python_run_handle(PyObject* obj);

/// Adds the artifact functions to module `m`. 0 on success, -1 with a Python error set.
int runicorn_python_add_artifact_functions(PyObject* m);
