// The artifact functions of runicorn._native (SDK.md §4.15) over the C ABI's rn_artifact_* and
// rn_artifact_version_* functions. Handles travel to Python as capsules whose destructors
// release them. Every call that reads or writes files runs with the GIL released (SDK.md §1.10).
// Calls return (rc, message, value) tuples: the Python layer (runicorn/artifacts.py) picks the
// exception or warning, which differs per method (§4.15, §1.7).

#include "native_artifact.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace {

constexpr const char* kArtifactCapsule = "runicorn.rn_artifact";
constexpr const char* kVersionCapsule = "runicorn.rn_artifact_version";

// CPython's C API casts function pointers and uses old-style casts in its macros.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-function-type"
#pragma GCC diagnostic ignored "-Wold-style-cast"

void artifact_capsule_free(PyObject* capsule) {
    (void)rn_artifact_release(
        static_cast<rn_artifact*>(PyCapsule_GetPointer(capsule, kArtifactCapsule)));
}

void version_capsule_free(PyObject* capsule) {
    (void)rn_artifact_version_release(
        static_cast<rn_artifact_version*>(PyCapsule_GetPointer(capsule, kVersionCapsule)));
}

rn_artifact* artifact_of(PyObject* capsule) {
    return static_cast<rn_artifact*>(PyCapsule_GetPointer(capsule, kArtifactCapsule));
}

rn_artifact_version* version_of(PyObject* capsule) {
    return static_cast<rn_artifact_version*>(PyCapsule_GetPointer(capsule, kVersionCapsule));
}

/// (rc, message).
PyObject* status_tuple(int rc, const std::string& message) {
    return Py_BuildValue("(is)", rc, rc == RN_OK ? "" : message.c_str());
}

/// (rc, message, capsule or None) for a call that may produce a version handle.
PyObject* version_tuple(int rc, const std::string& message, rn_artifact_version* v) {
    if (rc != RN_OK || v == nullptr) {
        return Py_BuildValue("(isO)", rc, message.c_str(), Py_None);
    }
    PyObject* capsule = PyCapsule_New(v, kVersionCapsule, &version_capsule_free);
    if (capsule == nullptr) {
        (void)rn_artifact_version_release(v);
        return nullptr;
    }
    PyObject* out = Py_BuildValue("(isN)", rc, "", capsule);
    return out;
}

/// Calls `fn(buffer, cap, &needed)` with the GIL released, growing the buffer once on
/// RN_E_BUFFER_TOO_SMALL; returns (rc, message, text or None).
template <class F>
PyObject* text_call(F fn) {
    std::vector<char> buf(4096);
    std::size_t needed = 0;
    int rc = RN_OK;
    std::string error;
    Py_BEGIN_ALLOW_THREADS rc = fn(buf.data(), buf.size(), &needed);
    if (rc == RN_E_BUFFER_TOO_SMALL && needed > buf.size()) {
        buf.resize(needed);
        rc = fn(buf.data(), buf.size(), &needed);
    }
    if (rc != RN_OK) {
        error = rn_last_error();  // thread-local: read it on the calling thread
    }
    Py_END_ALLOW_THREADS if (rc != RN_OK) {
        return Py_BuildValue("(isO)", rc, error.c_str(), Py_None);
    }
    return Py_BuildValue("(iss)", rc, "", buf.data());
}

/// The optional path argument converted by PyUnicode_FSConverter (a bytes object or nullptr).
const char* path_or_null(PyObject* bytes) {
    return bytes != nullptr ? PyBytes_AS_STRING(bytes) : nullptr;
}

/// "O&" converter: None → nullptr, else PyUnicode_FSConverter.
int optional_path(PyObject* arg, void* out) {
    auto** slot = static_cast<PyObject**>(out);
    if (arg == Py_None) {
        *slot = nullptr;
        return 1;
    }
    return PyUnicode_FSConverter(arg, slot);
}

PyObject* py_artifact_new(PyObject* /*m*/, PyObject* args) {
    const char* name = nullptr;
    const char* type = nullptr;
    if (!PyArg_ParseTuple(args, "ss", &name, &type)) {
        return nullptr;
    }
    rn_artifact* a = nullptr;
    const int rc = rn_artifact_new(name, type, &a);
    if (rc != RN_OK) {
        return Py_BuildValue("(isO)", rc, rn_last_error(), Py_None);
    }
    PyObject* capsule = PyCapsule_New(a, kArtifactCapsule, &artifact_capsule_free);
    if (capsule == nullptr) {
        (void)rn_artifact_release(a);
        return nullptr;
    }
    return Py_BuildValue("(isN)", rc, "", capsule);
}

/// artifact_add_file / artifact_add_dir (capsule, local path, name or None) -> (rc, message).
template <int (*Add)(rn_artifact*, const char*, const char*)>
PyObject* py_artifact_add(PyObject* /*m*/, PyObject* args) {
    PyObject* capsule = nullptr;
    PyObject* local = nullptr;
    const char* name = nullptr;
    if (!PyArg_ParseTuple(args, "OO&z", &capsule, &PyUnicode_FSConverter, &local, &name)) {
        return nullptr;
    }
    rn_artifact* a = artifact_of(capsule);
    if (a == nullptr) {
        Py_DECREF(local);
        return nullptr;
    }
    int rc = RN_OK;
    std::string error;
    Py_BEGIN_ALLOW_THREADS rc = Add(a, PyBytes_AS_STRING(local), name);
    if (rc != RN_OK) {
        error = rn_last_error();
    }
    Py_END_ALLOW_THREADS Py_DECREF(local);
    return status_tuple(rc, error);
}

PyObject* py_artifact_set_description(PyObject* /*m*/, PyObject* args) {
    PyObject* capsule = nullptr;
    const char* text = nullptr;
    if (!PyArg_ParseTuple(args, "Os", &capsule, &text)) {
        return nullptr;
    }
    rn_artifact* a = artifact_of(capsule);
    if (a == nullptr) {
        return nullptr;
    }
    const int rc = rn_artifact_set_description(a, text);
    return status_tuple(rc, rc == RN_OK ? "" : rn_last_error());
}

PyObject* py_artifact_set_metadata_json(PyObject* /*m*/, PyObject* args) {
    PyObject* capsule = nullptr;
    const char* json = nullptr;
    if (!PyArg_ParseTuple(args, "Os", &capsule, &json)) {
        return nullptr;
    }
    rn_artifact* a = artifact_of(capsule);
    if (a == nullptr) {
        return nullptr;
    }
    const int rc = rn_artifact_set_metadata_json(a, json);
    return status_tuple(rc, rc == RN_OK ? "" : rn_last_error());
}

/// log_artifact(run, artifact capsule, [aliases]) -> (rc, message, version capsule or None).
PyObject* py_log_artifact(PyObject* /*m*/, PyObject* args) {
    PyObject* run_obj = nullptr;
    PyObject* capsule = nullptr;
    PyObject* aliases = nullptr;
    if (!PyArg_ParseTuple(args, "OOO", &run_obj, &capsule, &aliases)) {
        return nullptr;
    }
    rn_run* run = runicorn_python_run_handle(run_obj);
    if (run == nullptr) {
        return nullptr;
    }
    rn_artifact* a = artifact_of(capsule);
    if (a == nullptr) {
        return nullptr;
    }
    PyObject* seq = PySequence_Fast(aliases, "aliases must be a list of strings");
    if (seq == nullptr) {
        return nullptr;
    }
    std::vector<const char*> list;
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject* item = PySequence_Fast_GET_ITEM(seq, i);
        const char* s = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : nullptr;
        if (s == nullptr) {
            Py_DECREF(seq);
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_TypeError, "aliases must be strings");
            }
            return nullptr;
        }
        list.push_back(s);
    }
    rn_artifact_version* v = nullptr;
    int rc = RN_OK;
    std::string error;
    Py_BEGIN_ALLOW_THREADS rc = rn_log_artifact(run, a, list.data(), list.size(), &v);
    if (rc != RN_OK) {
        error = rn_last_error();
    }
    Py_END_ALLOW_THREADS Py_DECREF(seq);  // the alias strings live in seq's items
    return version_tuple(rc, error, v);
}

/// use_artifact(run, ref) -> (rc, message, version capsule or None).
PyObject* py_use_artifact(PyObject* /*m*/, PyObject* args) {
    PyObject* run_obj = nullptr;
    const char* ref = nullptr;
    if (!PyArg_ParseTuple(args, "Os", &run_obj, &ref)) {
        return nullptr;
    }
    rn_run* run = runicorn_python_run_handle(run_obj);
    if (run == nullptr) {
        return nullptr;
    }
    rn_artifact_version* v = nullptr;
    int rc = RN_OK;
    std::string error;
    Py_BEGIN_ALLOW_THREADS rc = rn_use_artifact(run, ref, &v);
    if (rc != RN_OK) {
        error = rn_last_error();
    }
    Py_END_ALLOW_THREADS return version_tuple(rc, error, v);
}

/// resolve_artifact(ref, storage or None) -> (rc, message, version capsule or None).
PyObject* py_resolve_artifact(PyObject* /*m*/, PyObject* args) {
    const char* ref = nullptr;
    PyObject* storage = nullptr;
    if (!PyArg_ParseTuple(args, "sO&", &ref, &optional_path, &storage)) {
        return nullptr;
    }
    rn_artifact_version* v = nullptr;
    int rc = RN_OK;
    std::string error;
    const char* root = path_or_null(storage);
    Py_BEGIN_ALLOW_THREADS rc = rn_artifact_resolve(ref, root, &v);
    if (rc != RN_OK) {
        error = rn_last_error();
    }
    Py_END_ALLOW_THREADS Py_XDECREF(storage);
    return version_tuple(rc, error, v);
}

/// version_json(capsule) -> (rc, message, text or None).
PyObject* py_version_json(PyObject* /*m*/, PyObject* capsule) {
    rn_artifact_version* v = version_of(capsule);
    if (v == nullptr) {
        return nullptr;
    }
    return text_call([v](char* out, std::size_t cap, std::size_t* needed) {
        return rn_artifact_version_json(v, out, cap, needed);
    });
}

/// version_files_json(capsule) -> (rc, message, text or None).
PyObject* py_version_files_json(PyObject* /*m*/, PyObject* capsule) {
    rn_artifact_version* v = version_of(capsule);
    if (v == nullptr) {
        return nullptr;
    }
    return text_call([v](char* out, std::size_t cap, std::size_t* needed) {
        return rn_artifact_version_files_json(v, out, cap, needed);
    });
}

/// version_download(capsule, dest or None, flags) -> (rc, message, absolute dest or None).
PyObject* py_version_download(PyObject* /*m*/, PyObject* args) {
    PyObject* capsule = nullptr;
    PyObject* dest = nullptr;
    int flags = 0;
    if (!PyArg_ParseTuple(args, "OO&i", &capsule, &optional_path, &dest, &flags)) {
        return nullptr;
    }
    rn_artifact_version* v = version_of(capsule);
    if (v == nullptr) {
        Py_XDECREF(dest);
        return nullptr;
    }
    const char* d = path_or_null(dest);
    PyObject* out = text_call([v, d, flags](char* buf, std::size_t cap, std::size_t* needed) {
        return rn_artifact_version_download(v, d, flags, buf, cap, needed);
    });
    Py_XDECREF(dest);
    return out;
}

/// version_download_file(capsule, rel, dest or None, flags) -> (rc, message, path or None).
PyObject* py_version_download_file(PyObject* /*m*/, PyObject* args) {
    PyObject* capsule = nullptr;
    const char* rel = nullptr;
    PyObject* dest = nullptr;
    int flags = 0;
    if (!PyArg_ParseTuple(args, "OsO&i", &capsule, &rel, &optional_path, &dest, &flags)) {
        return nullptr;
    }
    rn_artifact_version* v = version_of(capsule);
    if (v == nullptr) {
        Py_XDECREF(dest);
        return nullptr;
    }
    const char* d = path_or_null(dest);
    PyObject* out = text_call([v, rel, d, flags](char* buf, std::size_t cap, std::size_t* needed) {
        return rn_artifact_version_download_file(v, rel, d, flags, buf, cap, needed);
    });
    Py_XDECREF(dest);
    return out;
}

/// version_set_alias / version_remove_alias (capsule, alias) -> (rc, message).
template <int (*Change)(rn_artifact_version*, const char*)>
PyObject* py_version_alias(PyObject* /*m*/, PyObject* args) {
    PyObject* capsule = nullptr;
    const char* alias = nullptr;
    if (!PyArg_ParseTuple(args, "Os", &capsule, &alias)) {
        return nullptr;
    }
    rn_artifact_version* v = version_of(capsule);
    if (v == nullptr) {
        return nullptr;
    }
    int rc = RN_OK;
    std::string error;
    Py_BEGIN_ALLOW_THREADS rc = Change(v, alias);
    if (rc != RN_OK) {
        error = rn_last_error();
    }
    Py_END_ALLOW_THREADS return status_tuple(rc, error);
}

template <class F>
PyCFunction as_cfunction(F f) {
    return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f));
}

PyMethodDef g_artifact_methods[] = {
    {"artifact_new", as_cfunction(&py_artifact_new), METH_VARARGS, nullptr},
    {"artifact_add_file", as_cfunction(&py_artifact_add<&rn_artifact_add_file>), METH_VARARGS,
     nullptr},
    {"artifact_add_dir", as_cfunction(&py_artifact_add<&rn_artifact_add_dir>), METH_VARARGS,
     nullptr},
    {"artifact_set_description", as_cfunction(&py_artifact_set_description), METH_VARARGS, nullptr},
    {"artifact_set_metadata_json", as_cfunction(&py_artifact_set_metadata_json), METH_VARARGS,
     nullptr},
    {"log_artifact", as_cfunction(&py_log_artifact), METH_VARARGS, nullptr},
    {"use_artifact", as_cfunction(&py_use_artifact), METH_VARARGS, nullptr},
    {"resolve_artifact", as_cfunction(&py_resolve_artifact), METH_VARARGS, nullptr},
    {"version_json", as_cfunction(&py_version_json), METH_O, nullptr},
    {"version_files_json", as_cfunction(&py_version_files_json), METH_O, nullptr},
    {"version_download", as_cfunction(&py_version_download), METH_VARARGS, nullptr},
    {"version_download_file", as_cfunction(&py_version_download_file), METH_VARARGS, nullptr},
    {"version_set_alias", as_cfunction(&py_version_alias<&rn_artifact_version_set_alias>),
     METH_VARARGS, nullptr},
    {"version_remove_alias", as_cfunction(&py_version_alias<&rn_artifact_version_remove_alias>),
     METH_VARARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

#pragma GCC diagnostic pop

}  // namespace

int runicorn_python_add_artifact_functions(PyObject* m) {
    PyObject* name = PyModule_GetNameObject(m);
    if (name == nullptr) {
        return -1;
    }
    int rc = 0;
    for (PyMethodDef* def = g_artifact_methods; def->ml_name != nullptr; ++def) {
        PyObject* fn = PyCFunction_NewEx(def, m, name);
        if (fn == nullptr || PyModule_AddObject(m, def->ml_name, fn) < 0) {
            Py_XDECREF(fn);
            rc = -1;
            break;
        }
    }
    Py_DECREF(name);
    if (rc == 0) {
        (void)PyModule_AddIntConstant(m, "RN_E_NOT_FOUND", RN_E_NOT_FOUND);
        (void)PyModule_AddIntConstant(m, "RN_E_ALREADY_EXISTS", RN_E_ALREADY_EXISTS);
        (void)PyModule_AddIntConstant(m, "RN_E_PERMISSION_DENIED", RN_E_PERMISSION_DENIED);
        (void)PyModule_AddIntConstant(m, "RN_E_UNAVAILABLE", RN_E_UNAVAILABLE);
        (void)PyModule_AddIntConstant(m, "RN_DL_NO_LINK", RN_DL_NO_LINK);
        (void)PyModule_AddIntConstant(m, "RN_DL_OVERWRITE", RN_DL_OVERWRITE);
    }
    return rc;
}
