// runicorn._native: the CPython extension module behind the Python package (SDK.md §4). It wraps
// the C ABI (runicorn/c/runicorn.h) of the runicorn_sdk shared library; the package's pure-Python
// modules build the v0.6 API on top of it.
//
// The hot path is RunBase.log(): it converts a dict of Python values into rn_kv items in the
// calling thread (the GIL is held only for that conversion and the enqueue, about a microsecond)
// and never raises: a bad key, value or step gives one RuntimeWarning per key and is counted
// (SDK.md §1.7, §4.6). Python subclasses RunBase (runicorn.sdk.Run), so `run.log` resolves to this
// C method without a Python frame.
//
// Exceptions never cross this module's boundary from C++: every entry point that can allocate
// catches std::exception and turns it into a Python exception or a warning.

// Python.h comes first (it sets feature macros the C library headers read).
// clang-format off
#define PY_SSIZE_T_CLEAN
#include <Python.h>
// clang-format on

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <runicorn/c/runicorn.h>

#include "native_artifact.hpp"  // sdk-artifacts
#include "native_assets.hpp"    // sdk-assets
#include <pthread.h>

namespace {

/// The Python-visible run handle. `run` is owned (rn_run_release in dealloc). `warned` holds the
/// warning keys already reported (one warning per key and kind). `invalid` counts the values,
/// keys and steps that were dropped or replaced.
/// Thread safety: guarded by the GIL (every access runs with it held).
struct RunObject {
    PyObject_HEAD rn_run* run;
    PyObject* warned;
    std::uint64_t invalid;
    int blocking;  // max_block > 0: log() may wait, so it releases the GIL
};

/// Owns temporary references made while converting one log() call.
/// Thread safety: externally synchronized (one call's stack).
class TempRefs {
public:
    TempRefs() = default;
    ~TempRefs() {
        for (std::size_t i = 0; i < n_; ++i) {
            Py_DECREF(small_[i]);
        }
        for (PyObject* o : more_) {
            Py_DECREF(o);
        }
    }
    TempRefs(const TempRefs&) = delete;
    TempRefs& operator=(const TempRefs&) = delete;
    TempRefs(TempRefs&&) = delete;
    TempRefs& operator=(TempRefs&&) = delete;
    /// Takes a new reference (which may be null).
    PyObject* keep(PyObject* o) {
        if (o == nullptr) {
            return nullptr;
        }
        if (n_ < kSmall) {
            small_[n_++] = o;
        } else {
            more_.push_back(o);
        }
        return o;
    }

private:
    static constexpr std::size_t kSmall = 16;
    PyObject* small_[kSmall] = {};
    std::size_t n_ = 0;
    std::vector<PyObject*> more_;
};

PyObject* g_keys_empty = nullptr;  // interned "" used when a key cannot be shown
PyObject* g_str_step = nullptr;
PyObject* g_str_stage = nullptr;
PyObject* g_str_item = nullptr;

/// Issues one RuntimeWarning for `key` of `kind` per run; counts every call. Never raises.
void warn_once(RunObject* self, const char* kind, PyObject* key, const char* message) {
    ++self->invalid;
    PyObject* exc_type = nullptr;
    PyObject* exc_value = nullptr;
    PyObject* exc_tb = nullptr;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);  // a pending error must not leak into the warning
    Py_XDECREF(exc_type);
    Py_XDECREF(exc_value);
    Py_XDECREF(exc_tb);
    PyObject* tag = PyUnicode_FromFormat("%s:%S", kind, key != nullptr ? key : g_keys_empty);
    if (tag == nullptr) {
        PyErr_Clear();
        return;
    }
    const int seen = self->warned != nullptr ? PySet_Contains(self->warned, tag) : 0;
    if (seen == 0 && self->warned != nullptr) {
        (void)PySet_Add(self->warned, tag);
        if (PyErr_WarnFormat(PyExc_RuntimeWarning, 1, "runicorn: %s", message) < 0) {
            PyErr_Clear();  // warnings configured as errors must not break the training loop
        }
    }
    Py_DECREF(tag);
    PyErr_Clear();
}

/// Warning text with the key's repr.
void warn_key(RunObject* self, const char* kind, PyObject* key, const char* what) {
    PyObject* text = PyUnicode_FromFormat("%s %R", what, key != nullptr ? key : g_keys_empty);
    const char* msg = text != nullptr ? PyUnicode_AsUTF8(text) : nullptr;
    warn_once(self, kind, key, msg != nullptr ? msg : what);
    Py_XDECREF(text);
    PyErr_Clear();
}

/// Converts `v` into `out` (SDK.md §4.6). Returns false when the value is dropped (warned).
bool convert_value(RunObject* self, PyObject* key, PyObject* v, rn_kv& out, TempRefs& refs,
                   int depth) {
    if (PyFloat_CheckExact(v)) {
        out.type = RN_VAL_F64;
        out.v.f64 = PyFloat_AS_DOUBLE(v);
        return true;
    }
    if (PyBool_Check(v)) {
        out.type = RN_VAL_BOOL;
        out.v.boolean = v == Py_True ? 1 : 0;
        return true;
    }
    if (PyLong_Check(v)) {
        int overflow = 0;
        const std::int64_t i = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow == 0 && !(i == -1 && PyErr_Occurred() != nullptr)) {
            out.type = RN_VAL_I64;
            out.v.i64 = i;
            return true;
        }
        PyErr_Clear();
        const double d = PyLong_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred() != nullptr) {
            warn_key(self, "value", key, "integer too large for a float; dropped key");
            return false;
        }
        warn_key(self, "int64", key, "integer outside int64 logged as a float for key");
        out.type = RN_VAL_F64;
        out.v.f64 = d;
        return true;
    }
    if (PyFloat_Check(v)) {
        out.type = RN_VAL_F64;
        out.v.f64 = PyFloat_AS_DOUBLE(v);
        return true;
    }
    if (PyUnicode_Check(v)) {
        Py_ssize_t len = 0;
        const char* s = PyUnicode_AsUTF8AndSize(v, &len);
        if (s == nullptr) {
            warn_key(self, "value", key, "string value is not valid UTF-8; dropped key");
            return false;
        }
        out.type = RN_VAL_STR;
        out.v.str.ptr = s;
        out.v.str.len = static_cast<std::size_t>(len);
        return true;
    }
    if (v == Py_None) {
        out.type = RN_VAL_NULL;
        return true;
    }
    if (depth < 4 && !PyList_Check(v) && !PyTuple_Check(v) && !PyDict_Check(v)) {
        // numpy/torch scalars and 0-d arrays: .item() gives a Python number.
        PyObject* item = PyObject_GetAttr(v, g_str_item);
        if (item != nullptr) {
            PyObject* r = PyObject_CallObject(item, nullptr);
            Py_DECREF(item);
            if (r == nullptr) {
                warn_key(self, "value", key,
                         "value has no single number (item() failed; arrays with more than one "
                         "element are not logged); dropped key");
                return false;
            }
            refs.keep(r);
            return convert_value(self, key, r, out, refs, depth + 1);
        }
        PyErr_Clear();
        if (PyIndex_Check(v)) {
            PyObject* i = PyNumber_Index(v);
            if (i != nullptr) {
                refs.keep(i);
                return convert_value(self, key, i, out, refs, depth + 1);
            }
            PyErr_Clear();
        }
        PyNumberMethods* nm = Py_TYPE(v)->tp_as_number;
        if (nm != nullptr && nm->nb_float != nullptr) {
            const double d = PyFloat_AsDouble(v);
            if (!(d == -1.0 && PyErr_Occurred() != nullptr)) {
                out.type = RN_VAL_F64;
                out.v.f64 = d;
                return true;
            }
            PyErr_Clear();
        }
    }
    warn_key(self, "value", key,
             "value type is not supported (numbers, strings, booleans, None, or objects with "
             "item()/__float__); dropped key");
    return false;
}

/// The UTF-8 key of a dict entry, or nullptr when the key is dropped (warned).
const char* convert_key(RunObject* self, PyObject* key, TempRefs& refs) {
    PyObject* k = key;
    if (!PyUnicode_Check(k)) {
        if (PyLong_Check(k) || PyFloat_Check(k)) {  // bool is an int subclass
            k = refs.keep(PyObject_Str(k));
            if (k == nullptr) {
                PyErr_Clear();
                return nullptr;
            }
        } else {
            warn_key(self, "key", key, "keys must be strings; dropped key");
            return nullptr;
        }
    }
    Py_ssize_t len = 0;
    const char* s = PyUnicode_AsUTF8AndSize(k, &len);
    if (s == nullptr || len == 0 || len > 256 ||
        std::memchr(s, '\0', static_cast<std::size_t>(len)) != nullptr) {
        warn_key(self, "key", key,
                 "keys must be non-empty UTF-8 of at most 256 bytes without NUL; dropped key");
        return nullptr;
    }
    return s;
}

/// The step argument: anything int() accepts; otherwise a warning and the automatic step.
std::int64_t convert_step(RunObject* self, PyObject* step) {
    if (step == nullptr || step == Py_None) {
        return RN_AUTO_STEP;
    }
    PyObject* i = PyLong_CheckExact(step) ? (Py_INCREF(step), step) : PyNumber_Long(step);
    if (i != nullptr) {
        int overflow = 0;
        const std::int64_t s = PyLong_AsLongLongAndOverflow(i, &overflow);
        Py_DECREF(i);
        if (overflow == 0 && !(s == -1 && PyErr_Occurred() != nullptr) && s != RN_AUTO_STEP) {
            return s;
        }
    }
    PyErr_Clear();
    PyObject* r = PyObject_Repr(step);
    PyObject* text = r != nullptr ? PyUnicode_FromFormat(
                                        "invalid step %U (not an integer); using the automatic "
                                        "step",
                                        r)
                                  : nullptr;
    const char* msg = text != nullptr ? PyUnicode_AsUTF8(text) : nullptr;
    warn_once(self, "step", nullptr,
              msg != nullptr ? msg : "invalid step; using the automatic step");
    Py_XDECREF(text);
    Py_XDECREF(r);
    PyErr_Clear();
    return RN_AUTO_STEP;
}

/// run.log(data=None, *, step=None, stage=None, **kwargs). Never raises (SDK.md §1.7).
PyObject* run_log(PyObject* obj, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    auto* self = reinterpret_cast<RunObject*>(obj);
    if (self->run == nullptr) {
        Py_RETURN_NONE;
    }
    try {
        PyObject* data = nargs >= 1 ? args[0] : Py_None;
        PyObject* step = nullptr;
        PyObject* stage = nullptr;
        PyObject* merged = nullptr;  // data ∪ kwargs, made only when there are extra kwargs
        TempRefs refs;
        if (nargs > 1) {
            warn_once(self, "args", nullptr,
                      "log() takes one positional argument (the data dict); extra ones ignored");
        }
        if (kwnames != nullptr) {
            const Py_ssize_t nk = PyTuple_GET_SIZE(kwnames);
            for (Py_ssize_t i = 0; i < nk; ++i) {
                PyObject* name = PyTuple_GET_ITEM(kwnames, i);
                PyObject* value = args[nargs + i];
                if (PyUnicode_Compare(name, g_str_step) == 0) {
                    step = value;
                } else if (PyUnicode_Compare(name, g_str_stage) == 0) {
                    stage = value;
                } else if (nargs == 0 && PyUnicode_CompareWithASCIIString(name, "data") == 0) {
                    data = value;
                } else {
                    if (merged == nullptr) {
                        merged = refs.keep(PyDict_New());
                        if (merged == nullptr || (data != Py_None && PyDict_Check(data) &&
                                                  PyDict_Update(merged, data) < 0)) {
                            PyErr_Clear();
                            Py_RETURN_NONE;
                        }
                    }
                    if (PyDict_SetItem(merged, name, value) < 0) {
                        PyErr_Clear();
                    }
                }
            }
        }
        PyObject* dict = data;
        if (merged != nullptr) {
            if (data != Py_None && !PyDict_Check(data)) {
                if (PyDict_Merge(merged, data, 0) < 0) {
                    warn_once(self, "data", nullptr,
                              "log() data must be a dict or mapping; ignored");
                }
            }
            dict = merged;
        } else if (data == Py_None) {
            dict = nullptr;
        } else if (!PyDict_Check(data)) {
            PyObject* d = refs.keep(PyDict_New());
            if (d == nullptr || PyDict_Merge(d, data, 1) < 0) {
                warn_once(self, "data", nullptr, "log() data must be a dict or mapping; ignored");
                Py_RETURN_NONE;
            }
            dict = d;
        }

        const std::int64_t s = convert_step(self, step);
        const char* stage_text = nullptr;
        if (stage != nullptr && stage != Py_None) {
            PyObject* st = PyUnicode_Check(stage) ? stage : refs.keep(PyObject_Str(stage));
            stage_text = st != nullptr ? PyUnicode_AsUTF8(st) : nullptr;
            if (stage_text == nullptr) {
                warn_once(self, "stage", nullptr, "stage cannot be converted to text; ignored");
            }
        }

        constexpr std::size_t kStack = 32;
        rn_kv stack_items[kStack];
        std::vector<rn_kv> heap_items;
        rn_kv* items = stack_items;
        std::size_t n = 0;
        if (dict != nullptr) {
            const auto size = static_cast<std::size_t>(PyDict_GET_SIZE(dict));
            if (size > kStack) {
                heap_items.resize(size);
                items = heap_items.data();
            }
            Py_ssize_t pos = 0;
            PyObject* key = nullptr;
            PyObject* value = nullptr;
            while (PyDict_Next(dict, &pos, &key, &value) && n < size) {
                const char* k = convert_key(self, key, refs);
                if (k == nullptr) {
                    continue;
                }
                rn_kv& kv = items[n];
                kv.key = k;
                if (convert_value(self, key, value, kv, refs, 0)) {
                    ++n;
                }
            }
        }
        PyErr_Clear();
        if (self->blocking != 0) {
            Py_BEGIN_ALLOW_THREADS(void) rn_log(self->run, items, n, s, stage_text);
            Py_END_ALLOW_THREADS
        } else {
            // Queued or dropped: the core counts drops and warns itself.
            (void)rn_log(self->run, items, n, s, stage_text);
        }
    } catch (const std::exception&) {
        PyErr_Clear();
        warn_once(self, "internal", nullptr,
                  "log() failed (out of memory); the record was dropped");
    }
    Py_RETURN_NONE;
}

/// Raises the Python exception for a failed rn_* call: ValueError for invalid arguments,
/// PermissionError, FileNotFoundError, FileExistsError, RuntimeError for a run in use, OSError
/// otherwise.
PyObject* raise_status(int rc) {
    const char* msg = rn_last_error();
    PyObject* type = PyExc_OSError;
    switch (rc) {
        case RN_E_INVALID_ARGUMENT:
            type = PyExc_ValueError;
            break;
        case RN_E_PERMISSION_DENIED:
            type = PyExc_PermissionError;
            break;
        case RN_E_NOT_FOUND:
            type = PyExc_FileNotFoundError;
            break;
        case RN_E_ALREADY_EXISTS:
            type = PyExc_FileExistsError;
            break;
        case RN_E_UNAVAILABLE:
        case RN_E_FAILED_PRECONDITION:
        case RN_E_INTERNAL:
        case RN_E_UNIMPLEMENTED:
            type = PyExc_RuntimeError;
            break;
        default:
            break;
    }
    PyErr_SetString(type, msg);
    return nullptr;
}

/// (rc, message) for calls whose errors the Python layer turns into warnings.
PyObject* rc_tuple(int rc) { return Py_BuildValue("(is)", rc, rc == RN_OK ? "" : rn_last_error()); }

int run_init(PyObject* obj, PyObject* args, PyObject* kwargs) {
    auto* self = reinterpret_cast<RunObject*>(obj);
    static const char* kw[] = {"path",
                               "project",
                               "name",
                               "storage",
                               "run_id",
                               "alias",
                               "tags",
                               "resume",
                               "workspace_root",
                               "durability",
                               "flush_interval_ms",
                               "sync_interval_ms",
                               "max_block_ms",
                               "heartbeat_interval_s",
                               "queue_capacity",
                               "handle_signals",
                               "python_version",
                               nullptr};
    const char* path = nullptr;
    const char* project = nullptr;
    const char* name = nullptr;
    const char* storage = nullptr;
    const char* run_id = nullptr;
    const char* alias = nullptr;
    PyObject* tags = nullptr;
    int resume = RN_RESUME_NEVER;
    const char* workspace_root = nullptr;
    int durability = RN_DURABILITY_BUFFERED;
    unsigned int flush_ms = 50;
    unsigned int sync_ms = 5000;
    unsigned int block_ms = 0;
    unsigned int heartbeat_s = 10;
    unsigned long long capacity = 64ULL << 20;  // NOLINT(google-runtime-int): "K" format
    int handle_signals = 0;
    const char* python_version = nullptr;
    if (self->run != nullptr) {
        PyErr_SetString(PyExc_RuntimeError, "run already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "|$zzzzzzOiziIIIIKpz", const_cast<char**>(kw), &path, &project, &name,
            &storage, &run_id, &alias, &tags, &resume, &workspace_root, &durability, &flush_ms,
            &sync_ms, &block_ms, &heartbeat_s, &capacity, &handle_signals, &python_version)) {
        return -1;
    }
    try {
        std::vector<const char*> tag_ptrs;
        PyObject* seq = nullptr;
        if (tags != nullptr && tags != Py_None) {
            seq = PySequence_Fast(tags, "tags must be a list of strings");
            if (seq == nullptr) {
                return -1;
            }
            const Py_ssize_t nt = PySequence_Fast_GET_SIZE(seq);
            for (Py_ssize_t i = 0; i < nt; ++i) {
                PyObject* t = PySequence_Fast_GET_ITEM(seq, i);
                const char* s = PyUnicode_Check(t) ? PyUnicode_AsUTF8(t) : nullptr;
                if (s == nullptr) {
                    Py_DECREF(seq);
                    PyErr_SetString(PyExc_ValueError, "tags must be a list of strings");
                    return -1;
                }
                tag_ptrs.push_back(s);
            }
        }
        rn_init_options o;
        rn_init_options_default(&o);
        o.path = path;
        o.project = project;
        o.name = name;
        o.storage = storage;
        o.run_id = run_id;
        o.alias = alias;
        o.tags = tag_ptrs.empty() ? nullptr : tag_ptrs.data();
        o.tag_count = tag_ptrs.size();
        o.resume = resume;
        o.workspace_root = workspace_root;
        o.durability = durability;
        o.flush_interval_ms = flush_ms;
        o.sync_interval_ms = sync_ms;
        o.max_block_ms = block_ms;
        o.heartbeat_interval_s = heartbeat_s;
        o.queue_capacity_bytes = capacity;
        o.handle_signals = handle_signals;
        o.writer_language = "python";
        o.python_version = python_version;
        rn_run* run = nullptr;
        int rc = RN_OK;
        std::string error;
        Py_BEGIN_ALLOW_THREADS rc = rn_init(&o, &run);
        if (rc != RN_OK) {
            error = rn_last_error();  // the message is thread-local: read it on this thread
        }
        Py_END_ALLOW_THREADS Py_XDECREF(seq);
        if (rc != RN_OK) {
            PyObject* type = PyExc_OSError;
            if (rc == RN_E_INVALID_ARGUMENT) {
                type = PyExc_ValueError;
            } else if (rc == RN_E_PERMISSION_DENIED) {
                type = PyExc_PermissionError;
            } else if (rc == RN_E_NOT_FOUND) {
                type = PyExc_FileNotFoundError;
            } else if (rc == RN_E_ALREADY_EXISTS) {
                type = PyExc_FileExistsError;
            } else if (rc == RN_E_UNAVAILABLE || rc == RN_E_INTERNAL || rc == RN_E_UNIMPLEMENTED) {
                type = PyExc_RuntimeError;
            }
            PyErr_SetString(type, error.c_str());
            return -1;
        }
        self->run = run;
        self->blocking = block_ms > 0 ? 1 : 0;
        if (self->warned == nullptr) {
            self->warned = PySet_New(nullptr);
            if (self->warned == nullptr) {
                return -1;
            }
        }
        return 0;
    } catch (const std::exception& e) {
        PyErr_SetString(PyExc_MemoryError, e.what());
        return -1;
    }
}

void run_dealloc(PyObject* obj) {
    auto* self = reinterpret_cast<RunObject*>(obj);
    if (self->run != nullptr) {
        rn_run* run = self->run;
        self->run = nullptr;
        Py_BEGIN_ALLOW_THREADS(void) rn_run_release(run);
        Py_END_ALLOW_THREADS
    }
    Py_CLEAR(self->warned);
    Py_TYPE(obj)->tp_free(obj);
}

PyObject* run_new(PyTypeObject* type, PyObject* /*args*/, PyObject* /*kwargs*/) {
    auto* self = reinterpret_cast<RunObject*>(type->tp_alloc(type, 0));
    if (self != nullptr) {
        self->run = nullptr;
        self->warned = nullptr;
        self->invalid = 0;
        self->blocking = 0;
    }
    return reinterpret_cast<PyObject*>(self);
}

/// Reads a str (or bytes) argument as UTF-8 with its length.
bool text_arg(PyObject* o, const char** s, Py_ssize_t* len) {
    if (PyUnicode_Check(o)) {
        *s = PyUnicode_AsUTF8AndSize(o, len);
        return *s != nullptr;
    }
    if (PyBytes_Check(o)) {
        *s = PyBytes_AS_STRING(o);
        *len = PyBytes_GET_SIZE(o);
        return true;
    }
    PyErr_SetString(PyExc_TypeError, "expected str");
    return false;
}

/// _log_text(text) / _log_raw(text) -> rc. Raise only for a non-str argument.
PyObject* run_log_text_impl(PyObject* obj, PyObject* arg, bool raw) {
    auto* self = reinterpret_cast<RunObject*>(obj);
    if (self->run == nullptr) {
        return PyLong_FromLong(RN_OK);
    }
    const char* s = nullptr;
    Py_ssize_t len = 0;
    if (!text_arg(arg, &s, &len)) {
        return nullptr;
    }
    const int rc = raw ? rn_log_raw(self->run, s, static_cast<std::size_t>(len))
                       : rn_log_text(self->run, s, static_cast<std::size_t>(len));
    return PyLong_FromLong(rc);
}
PyObject* run_log_text(PyObject* obj, PyObject* arg) { return run_log_text_impl(obj, arg, false); }
PyObject* run_log_raw(PyObject* obj, PyObject* arg) { return run_log_text_impl(obj, arg, true); }

/// _log_image(key, data: bytes-like or None, file: str or None, step or None, caption or None,
/// format) -> (rc, path or message).
PyObject* run_log_image(PyObject* obj, PyObject* args) {
    auto* self = reinterpret_cast<RunObject*>(obj);
    const char* key = nullptr;
    Py_buffer buf{};
    const char* file = nullptr;
    PyObject* step_obj = nullptr;
    const char* caption = nullptr;
    const char* format = nullptr;
    if (!PyArg_ParseTuple(args, "sz*zOzz", &key, &buf, &file, &step_obj, &caption, &format)) {
        return nullptr;
    }
    if (self->run == nullptr) {
        PyBuffer_Release(&buf);
        return Py_BuildValue("(is)", RN_OK, "");
    }
    std::int64_t step = RN_NO_STEP;
    if (step_obj != Py_None) {
        step = convert_step(self, step_obj);
    }
    char out[512];
    std::size_t needed = 0;
    int rc = RN_OK;
    std::string error;
    Py_BEGIN_ALLOW_THREADS if (file != nullptr) {
        rc = rn_log_image_file(self->run, key, file, step, caption, out, sizeof out, &needed);
    }
    else {
        rc = rn_log_image(self->run, key, buf.buf, static_cast<std::size_t>(buf.len), step, caption,
                          format, out, sizeof out, &needed);
    }
    if (rc != RN_OK) {
        error = rn_last_error();
    }
    Py_END_ALLOW_THREADS PyBuffer_Release(&buf);
    if (rc != RN_OK) {
        return Py_BuildValue("(is)", rc, error.c_str());
    }
    return Py_BuildValue("(is)", rc, out);
}

/// _set_primary_metric(name, mode) -> None; ValueError for a bad name or mode.
PyObject* run_set_primary_metric(PyObject* obj, PyObject* args) {
    auto* self = reinterpret_cast<RunObject*>(obj);
    const char* name = nullptr;
    int mode = RN_MODE_MAX;
    if (!PyArg_ParseTuple(args, "si", &name, &mode)) {
        return nullptr;
    }
    if (self->run == nullptr) {
        Py_RETURN_NONE;
    }
    const int rc = rn_set_primary_metric(self->run, name, mode);
    if (rc == RN_E_INVALID_ARGUMENT) {
        return raise_status(rc);
    }
    return rc_tuple(rc);
}

/// _summary_json(text) -> (rc, message).
PyObject* run_summary_json(PyObject* obj, PyObject* arg) {
    auto* self = reinterpret_cast<RunObject*>(obj);
    const char* s = PyUnicode_AsUTF8(arg);
    if (s == nullptr) {
        return nullptr;
    }
    if (self->run == nullptr) {
        return rc_tuple(RN_OK);
    }
    return rc_tuple(rn_summary_json(self->run, s));
}

/// _log_config_json(args_json or None, extra_json or None, files list or None) -> (rc, message).
PyObject* run_log_config_json(PyObject* obj, PyObject* args) {
    auto* self = reinterpret_cast<RunObject*>(obj);
    const char* a = nullptr;
    const char* e = nullptr;
    PyObject* files = nullptr;
    if (!PyArg_ParseTuple(args, "zzO", &a, &e, &files)) {
        return nullptr;
    }
    if (self->run == nullptr) {
        return rc_tuple(RN_OK);
    }
    try {
        std::vector<const char*> ptrs;
        PyObject* seq = nullptr;
        if (files != Py_None) {
            seq = PySequence_Fast(files, "config_files must be a list of str");
            if (seq == nullptr) {
                return nullptr;
            }
            for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); ++i) {
                const char* s = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i));
                if (s == nullptr) {
                    Py_DECREF(seq);
                    return nullptr;
                }
                ptrs.push_back(s);
            }
        }
        static const char* const no_files[] = {nullptr};
        const int rc = rn_log_config_json(
            self->run, a, e, seq == nullptr ? nullptr : (ptrs.empty() ? no_files : ptrs.data()),
            ptrs.size());
        PyObject* r = rc_tuple(rc);
        Py_XDECREF(seq);
        return r;
    } catch (const std::exception& ex) {
        PyErr_SetString(PyExc_MemoryError, ex.what());
        return nullptr;
    }
}

/// _flush(timeout_ms) -> (rc, message); releases the GIL while waiting.
PyObject* run_flush(PyObject* obj, PyObject* arg) {
    auto* self = reinterpret_cast<RunObject*>(obj);
    const std::uint64_t ms = PyLong_AsUnsignedLongLong(arg);
    if (ms == static_cast<std::uint64_t>(-1) && PyErr_Occurred() != nullptr) {
        return nullptr;
    }
    if (self->run == nullptr) {
        return rc_tuple(RN_OK);
    }
    int rc = RN_OK;
    std::string error;
    Py_BEGIN_ALLOW_THREADS rc =
        rn_flush(self->run, static_cast<std::uint32_t>(std::min<std::uint64_t>(ms, UINT32_MAX)));
    if (rc != RN_OK) {
        error = rn_last_error();
    }
    Py_END_ALLOW_THREADS return Py_BuildValue("(is)", rc, error.c_str());
}

/// _finish(status, exit_reason or None) -> (rc, message); releases the GIL while waiting.
PyObject* run_finish(PyObject* obj, PyObject* args) {
    auto* self = reinterpret_cast<RunObject*>(obj);
    const char* status = nullptr;
    const char* reason = nullptr;
    if (!PyArg_ParseTuple(args, "sz", &status, &reason)) {
        return nullptr;
    }
    if (self->run == nullptr) {
        return rc_tuple(RN_OK);
    }
    int rc = RN_OK;
    std::string error;
    Py_BEGIN_ALLOW_THREADS rc = rn_finish_ex(self->run, status, reason);
    if (rc != RN_OK) {
        error = rn_last_error();
    }
    Py_END_ALLOW_THREADS return Py_BuildValue("(is)", rc, error.c_str());
}

/// _info() -> dict(id, path, run_dir, storage_root, enabled, finished).
PyObject* run_info(PyObject* obj, PyObject* /*unused*/) {
    auto* self = reinterpret_cast<RunObject*>(obj);
    if (self->run == nullptr) {
        Py_RETURN_NONE;
    }
    rn_run_info info{};
    info.struct_size = sizeof info;
    if (rn_run_get_info(self->run, &info) != RN_OK) {
        return raise_status(RN_E_INTERNAL);
    }
    return Py_BuildValue("{s:s,s:s,s:s,s:s,s:O,s:O}", "id", info.id, "path", info.path, "run_dir",
                         info.run_dir, "storage_root", info.storage_root, "enabled",
                         info.enabled != 0 ? Py_True : Py_False, "finished",
                         info.finished != 0 ? Py_True : Py_False);
}

/// _stats() -> dict of the counters (SDK.md §2.4) plus invalid_values.
PyObject* run_stats(PyObject* obj, PyObject* /*unused*/) {
    auto* self = reinterpret_cast<RunObject*>(obj);
    rn_run_stats st{};
    st.struct_size = sizeof st;
    if (self->run != nullptr && rn_run_get_stats(self->run, &st) != RN_OK) {
        return raise_status(RN_E_INTERNAL);
    }
    return Py_BuildValue("{s:K,s:K,s:K,s:K,s:K,s:K,s:K}", "records_logged", st.records_logged,
                         "records_written", st.records_written, "records_dropped",
                         st.records_dropped, "bytes_written", st.bytes_written, "write_errors",
                         st.write_errors, "queue_bytes", st.queue_bytes, "invalid_values",
                         self->invalid);
}

/// _warn_once(kind, key or None, message): the same once-per-key warning the native side uses.
PyObject* run_warn_once(PyObject* obj, PyObject* args) {
    auto* self = reinterpret_cast<RunObject*>(obj);
    const char* kind = nullptr;
    PyObject* key = nullptr;
    const char* message = nullptr;
    if (!PyArg_ParseTuple(args, "sOs", &kind, &key, &message)) {
        return nullptr;
    }
    warn_once(self, kind, key == Py_None ? nullptr : key, message);
    Py_RETURN_NONE;
}

template <class F>
PyCFunction as_cfunction(F f) {
    return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f));
}

PyMethodDef g_run_methods[] = {
    {"log", as_cfunction(&run_log), METH_FASTCALL | METH_KEYWORDS,
     "log(data=None, *, step=None, stage=None, **kwargs): queue one metrics record"},
    {"_log_text", as_cfunction(&run_log_text), METH_O, nullptr},
    {"_log_raw", as_cfunction(&run_log_raw), METH_O, nullptr},
    {"_log_image", as_cfunction(&run_log_image), METH_VARARGS, nullptr},
    {"_set_primary_metric", as_cfunction(&run_set_primary_metric), METH_VARARGS, nullptr},
    {"_summary_json", as_cfunction(&run_summary_json), METH_O, nullptr},
    {"_log_config_json", as_cfunction(&run_log_config_json), METH_VARARGS, nullptr},
    {"_flush", as_cfunction(&run_flush), METH_O, nullptr},
    {"_finish", as_cfunction(&run_finish), METH_VARARGS, nullptr},
    {"_info", as_cfunction(&run_info), METH_NOARGS, nullptr},
    {"_stats", as_cfunction(&run_stats), METH_NOARGS, nullptr},
    {"_warn_once", as_cfunction(&run_warn_once), METH_VARARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

// CPython's static type and module structs are filled in PyInit__native; the initialisers name
// only the header.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
PyTypeObject g_run_type = {PyVarObject_HEAD_INIT(nullptr, 0)};

PyObject* mod_set_enabled(PyObject* /*m*/, PyObject* arg) {
    const int v = PyObject_IsTrue(arg);
    if (v < 0) {
        return nullptr;
    }
    rn_set_enabled(v);
    Py_RETURN_NONE;
}
PyObject* mod_reset_enabled(PyObject* /*m*/, PyObject* /*unused*/) {
    rn_reset_enabled();
    Py_RETURN_NONE;
}
PyObject* mod_is_enabled(PyObject* /*m*/, PyObject* /*unused*/) {
    return PyBool_FromLong(rn_is_enabled());
}
PyObject* mod_version(PyObject* /*m*/, PyObject* /*unused*/) {
    return PyUnicode_FromString(rn_version());
}
PyObject* mod_abi_version(PyObject* /*m*/, PyObject* /*unused*/) {
    return PyLong_FromUnsignedLong(rn_abi_version());
}

PyMethodDef g_module_methods[] = {
    {"set_enabled", as_cfunction(&mod_set_enabled), METH_O, nullptr},
    {"reset_enabled", as_cfunction(&mod_reset_enabled), METH_NOARGS, nullptr},
    {"is_enabled", as_cfunction(&mod_is_enabled), METH_NOARGS, nullptr},
    {"version", as_cfunction(&mod_version), METH_NOARGS, nullptr},
    {"abi_version", as_cfunction(&mod_abi_version), METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

// ---- Console capture: the tee writer (SDK.md §4.8) ------------------------------------------
// TeeBase.write(s) writes s to the original stream, then feeds the log side in C: a print loop
// under capture must stay within 2x of one without (BENCHMARKS B1-Python), which a Python-level
// write() per print() piece cannot meet.

/// Set in a fork child: captured output then goes to the terminal only (SDK.md §5).
bool g_fork_child = false;
extern "C" void runicorn_python_fork_child() { g_fork_child = true; }

enum TeeMode : int { kTeeSmart = 0, kTeeAll = 1, kTeeNone = 2 };

/// The native part of runicorn.console.TeeWriter. `run` is a strong reference (or null once
/// detached); `pending` is the smart mode's unfinished line (UTF-8).
/// Thread safety: guarded by the GIL (write() never releases it).
struct TeeObject {
    PyObject_HEAD PyObject* orig;
    PyObject* run;
    int mode;
    std::string* pending;
    std::string* out;
    std::int64_t sec;
    char prefix[16];
};

PyObject* g_str_write = nullptr;

void tee_prefix(TeeObject* self) {
    const std::time_t now = std::time(nullptr);
    if (static_cast<std::int64_t>(now) != self->sec) {
        self->sec = static_cast<std::int64_t>(now);
        std::tm tm{};
        localtime_r(&now, &tm);
        std::strftime(self->prefix, sizeof self->prefix, "[%H:%M:%S] ", &tm);
    }
}

void tee_add_line(TeeObject* self, std::string_view line) {
    if (self->out->empty()) {
        tee_prefix(self);
    }
    self->out->append(self->prefix);
    self->out->append(line);
    self->out->push_back('\n');
}

bool has_visible(std::string_view s) {
    for (const char c : s) {
        if (c != ' ' && c != '\t' && c != '\f' && c != '\v') {
            return true;
        }
    }
    return false;
}

void tee_flush_out(TeeObject* self) {
    if (!self->out->empty()) {
        auto* run = reinterpret_cast<RunObject*>(self->run);
        if (run != nullptr && run->run != nullptr && !g_fork_child) {
            (void)rn_log_raw(run->run, self->out->data(), self->out->size());
        }
        self->out->clear();
    }
}

void tee_feed(TeeObject* self, std::string_view s) {
    if (self->mode == kTeeSmart) {
        std::size_t pos = 0;
        while (pos < s.size()) {
            const std::size_t hit = s.find_first_of("\r\n", pos);
            if (hit == std::string_view::npos) {
                self->pending->append(s.substr(pos));
                break;
            }
            self->pending->append(s.substr(pos, hit - pos));
            if (s[hit] == '\n' && has_visible(*self->pending)) {
                tee_add_line(self, *self->pending);
            }
            self->pending->clear();  // '\r' empties the line; '\n' ends it
            pos = hit + 1;
        }
    } else {
        if (self->mode == kTeeNone && s.find('\r') != std::string_view::npos) {
            return;
        }
        std::size_t pos = 0;
        while (pos <= s.size()) {
            std::size_t hit = s.find_first_of("\r\n", pos);
            if (hit == std::string_view::npos) {
                hit = s.size();
            }
            if (hit > pos) {
                tee_add_line(self, s.substr(pos, hit - pos));
            }
            pos = hit + 1;
        }
    }
    tee_flush_out(self);
}

PyObject* tee_write(PyObject* obj, PyObject* arg) {
    auto* self = reinterpret_cast<TeeObject*>(obj);
    if (self->orig == nullptr) {
        PyErr_SetString(PyExc_ValueError, "TeeWriter is not initialised");
        return nullptr;
    }
    PyObject* r = PyObject_CallMethodObjArgs(self->orig, g_str_write, arg, nullptr);
    if (r == nullptr || self->run == nullptr || g_fork_child || !PyUnicode_Check(arg)) {
        return r;
    }
    Py_ssize_t len = 0;
    const char* u = PyUnicode_AsUTF8AndSize(arg, &len);
    if (u == nullptr) {
        PyErr_Clear();  // e.g. lone surrogates: the terminal got them, the log side skips them
        return r;
    }
    try {
        tee_feed(self, std::string_view(u, static_cast<std::size_t>(len)));
    } catch (const std::exception&) {
        self->pending->clear();  // out of memory: the log side drops this write
        self->out->clear();
    }
    return r;
}

/// close_log(): emits the pending line (smart mode) and detaches from the run.
PyObject* tee_close_log(PyObject* obj, PyObject* /*unused*/) {
    auto* self = reinterpret_cast<TeeObject*>(obj);
    try {
        if (self->pending != nullptr && has_visible(*self->pending) && self->run != nullptr) {
            tee_add_line(self, *self->pending);
            tee_flush_out(self);
        }
    } catch (const std::exception&) {
        PyErr_Clear();
    }
    if (self->pending != nullptr) {
        self->pending->clear();
    }
    Py_CLEAR(self->run);
    Py_RETURN_NONE;
}

int tee_init(PyObject* obj, PyObject* args, PyObject* /*kwargs*/) {
    auto* self = reinterpret_cast<TeeObject*>(obj);
    PyObject* orig = nullptr;
    PyObject* run = nullptr;
    int mode = kTeeSmart;
    if (!PyArg_ParseTuple(args, "OOi", &orig, &run, &mode)) {
        return -1;
    }
    if (mode < kTeeSmart || mode > kTeeNone) {
        PyErr_SetString(PyExc_ValueError, "invalid tee mode");
        return -1;
    }
    if (run != Py_None && !PyObject_TypeCheck(run, &g_run_type)) {
        PyErr_SetString(PyExc_TypeError, "run must be a runicorn Run or None");
        return -1;
    }
    Py_INCREF(orig);
    Py_XSETREF(self->orig, orig);
    if (run == Py_None) {
        Py_CLEAR(self->run);
    } else {
        Py_INCREF(run);
        Py_XSETREF(self->run, run);
    }
    self->mode = mode;
    return 0;
}

PyObject* tee_new(PyTypeObject* type, PyObject* /*args*/, PyObject* /*kwargs*/) {
    auto* self = reinterpret_cast<TeeObject*>(type->tp_alloc(type, 0));
    if (self == nullptr) {
        return nullptr;
    }
    self->orig = nullptr;
    self->run = nullptr;
    self->mode = kTeeSmart;
    self->sec = -1;
    self->prefix[0] = '\0';
    self->pending = new (std::nothrow) std::string();
    self->out = new (std::nothrow) std::string();
    if (self->pending == nullptr || self->out == nullptr) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return reinterpret_cast<PyObject*>(self);
}

int tee_traverse(PyObject* obj, visitproc visit, void* arg) {
    auto* self = reinterpret_cast<TeeObject*>(obj);
    Py_VISIT(Py_TYPE(obj));
    Py_VISIT(self->orig);
    Py_VISIT(self->run);
    return 0;
}

int tee_clear(PyObject* obj) {
    auto* self = reinterpret_cast<TeeObject*>(obj);
    Py_CLEAR(self->orig);
    Py_CLEAR(self->run);
    return 0;
}

void tee_dealloc(PyObject* obj) {
    auto* self = reinterpret_cast<TeeObject*>(obj);
    PyObject_GC_UnTrack(obj);
    (void)tee_clear(obj);
    delete self->pending;
    delete self->out;
    self->pending = nullptr;
    self->out = nullptr;
    // A static type: subtype_dealloc, not this function, releases a Python subclass's type.
    Py_TYPE(obj)->tp_free(obj);
}

PyObject* tee_get_original(PyObject* obj, void* /*closure*/) {
    auto* self = reinterpret_cast<TeeObject*>(obj);
    PyObject* o = self->orig != nullptr ? self->orig : Py_None;
    Py_INCREF(o);
    return o;
}

PyMethodDef g_tee_methods[] = {
    {"write", as_cfunction(&tee_write), METH_O, "write(s): to the original stream and the log"},
    {"close_log", as_cfunction(&tee_close_log), METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef g_tee_getset[] = {
    {"original", &tee_get_original, nullptr, "the stream written through to", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyTypeObject g_tee_type = {PyVarObject_HEAD_INIT(nullptr, 0)};
PyModuleDef g_module = {PyModuleDef_HEAD_INIT};
#pragma GCC diagnostic pop

}  // namespace

// ---- sdk-artifacts: the run handle for native_artifact.cpp --------------------------------------
rn_run* runicorn_python_run_handle(PyObject* obj) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
    const bool is_run = PyObject_TypeCheck(obj, &g_run_type);
#pragma GCC diagnostic pop
    if (!is_run) {
        PyErr_SetString(PyExc_TypeError, "expected a runicorn.Run");
        return nullptr;
    }
    rn_run* run = reinterpret_cast<RunObject*>(obj)->run;
    if (run == nullptr) {
        PyErr_SetString(PyExc_ValueError, "the run is not initialised");
    }
    return run;
}

// CPython's required name for the module's entry point.
// NOLINTNEXTLINE(bugprone-reserved-identifier,readability-identifier-naming)
PyMODINIT_FUNC PyInit__native(void) {
    if ((rn_abi_version() >> 16) != RN_ABI_VERSION_MAJOR ||
        (rn_abi_version() & 0xFFFFu) < RN_ABI_VERSION_MINOR) {
        PyErr_Format(PyExc_ImportError,
                     "runicorn._native: librunicorn_sdk has ABI %u.%u, this module needs %d.%d",
                     rn_abi_version() >> 16, rn_abi_version() & 0xFFFFu, RN_ABI_VERSION_MAJOR,
                     RN_ABI_VERSION_MINOR);
        return nullptr;
    }
    g_keys_empty = PyUnicode_InternFromString("");
    g_str_step = PyUnicode_InternFromString("step");
    g_str_stage = PyUnicode_InternFromString("stage");
    g_str_item = PyUnicode_InternFromString("item");
    if (g_keys_empty == nullptr || g_str_step == nullptr || g_str_stage == nullptr ||
        g_str_item == nullptr) {
        return nullptr;
    }
    g_str_write = PyUnicode_InternFromString("write");
    if (g_str_write == nullptr) {
        return nullptr;
    }
    (void)::pthread_atfork(nullptr, nullptr, &runicorn_python_fork_child);
    g_run_type.tp_name = "runicorn._native.RunBase";
    g_run_type.tp_basicsize = sizeof(RunObject);
    g_run_type.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
    g_run_type.tp_doc = "The native run handle (subclassed by runicorn.Run).";
    g_run_type.tp_new = run_new;
    g_run_type.tp_init = run_init;
    g_run_type.tp_dealloc = run_dealloc;
    g_run_type.tp_methods = g_run_methods;
    if (PyType_Ready(&g_run_type) < 0) {
        return nullptr;
    }
    g_tee_type.tp_name = "runicorn._native.TeeBase";
    g_tee_type.tp_basicsize = sizeof(TeeObject);
    g_tee_type.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC;
    g_tee_type.tp_doc = "The native tee writer (subclassed by runicorn.console.TeeWriter).";
    g_tee_type.tp_new = tee_new;
    g_tee_type.tp_init = tee_init;
    g_tee_type.tp_dealloc = tee_dealloc;
    g_tee_type.tp_traverse = tee_traverse;
    g_tee_type.tp_clear = tee_clear;
    g_tee_type.tp_methods = g_tee_methods;
    g_tee_type.tp_getset = g_tee_getset;
    if (PyType_Ready(&g_tee_type) < 0) {
        return nullptr;
    }
    g_module.m_name = "runicorn._native";
    g_module.m_doc = "Native layer of the runicorn package over the runicorn_sdk C ABI.";
    g_module.m_size = -1;
    g_module.m_methods = g_module_methods;
    PyObject* m = PyModule_Create(&g_module);
    if (m == nullptr) {
        return nullptr;
    }
    Py_INCREF(&g_run_type);
    if (PyModule_AddObject(m, "RunBase", reinterpret_cast<PyObject*>(&g_run_type)) < 0) {
        Py_DECREF(&g_run_type);
        Py_DECREF(m);
        return nullptr;
    }
    Py_INCREF(&g_tee_type);
    if (PyModule_AddObject(m, "TeeBase", reinterpret_cast<PyObject*>(&g_tee_type)) < 0) {
        Py_DECREF(&g_tee_type);
        Py_DECREF(m);
        return nullptr;
    }
    (void)PyModule_AddIntConstant(m, "RN_OK", RN_OK);
    (void)PyModule_AddIntConstant(m, "RN_E_INVALID_ARGUMENT", RN_E_INVALID_ARGUMENT);
    (void)PyModule_AddIntConstant(m, "RN_E_DEADLINE_EXCEEDED", RN_E_DEADLINE_EXCEEDED);
    (void)PyModule_AddIntConstant(m, "RN_E_FAILED_PRECONDITION", RN_E_FAILED_PRECONDITION);
    if (runicorn_python_add_asset_functions(m) < 0) {  // sdk-assets
        Py_DECREF(m);
        return nullptr;
    }
    if (runicorn_python_add_artifact_functions(m) < 0) {  // sdk-artifacts
        Py_DECREF(m);
        return nullptr;
    }
    return m;
}
