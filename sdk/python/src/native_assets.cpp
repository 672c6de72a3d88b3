// runicorn._native._assets_call: the asset calls of the C ABI (log_dataset / log_pretrained with
// save, code snapshots, the outputs scanner) for runicorn/_assets.py. The GIL is released while
// the native side hashes and copies (SDK.md §1.10).

#include "native_assets.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <runicorn/c/runicorn.h>

#include "native_artifact.hpp"

namespace {

/// Runs a C call that writes JSON into a buffer, growing it once when too small.
template <class F>
int call_with_buffer(F f, std::string& out) {
    std::vector<char> buf(64 * 1024);
    std::size_t needed = 0;
    int rc = f(buf.data(), buf.size(), &needed);
    if (rc == RN_OK) {
        out.assign(buf.data());
    }
    return rc;
}

/// _assets_call(run, op, name, target, options_json) -> (rc, message, result_json or None).
/// op: "dataset" (name, target = root_or_uri), "pretrained" (name), "snapshot", "scan",
/// "watch" (target = interval in ms as text), "stop".
PyObject* assets_call(PyObject* /*module*/, PyObject* args) {
    PyObject* run_obj = nullptr;
    const char* op = nullptr;
    const char* name = nullptr;
    const char* target = nullptr;
    const char* options = nullptr;
    if (!PyArg_ParseTuple(args, "Oszzz", &run_obj, &op, &name, &target, &options)) {
        return nullptr;
    }
    rn_run* run = runicorn_python_run_handle(run_obj);
    if (run == nullptr) {
        return nullptr;
    }
    const std::string o(op);
    int rc = RN_OK;
    std::string error;
    std::string result;
    bool has_result = false;
    Py_BEGIN_ALLOW_THREADS;
    if (o == "dataset") {
        rc = rn_log_dataset(run, name, target, options);
    } else if (o == "pretrained") {
        rc = rn_log_pretrained(run, name, options);
    } else if (o == "snapshot") {
        rc = call_with_buffer(
            [&](char* b, std::size_t cap, std::size_t* need) {
                int r = rn_snapshot_code(run, options, b, cap, need);
                if (r == RN_E_BUFFER_TOO_SMALL) {
                    r = RN_OK;  // the snapshot was taken; the entry is in assets.json
                }
                return r;
            },
            result);
        has_result = rc == RN_OK;
    } else if (o == "scan") {
        std::vector<char> buf(64 * 1024);
        std::size_t needed = 0;
        rc = rn_scan_outputs_once(run, options, buf.data(), buf.size(), &needed);
        if (rc == RN_E_BUFFER_TOO_SMALL) {
            buf.resize(needed);
            rc = rn_last_scan_result(buf.data(), buf.size(), &needed);
        }
        if (rc == RN_OK) {
            result.assign(buf.data());
            has_result = true;
        }
    } else if (o == "watch") {
        const std::uint64_t ms = target == nullptr ? 10000 : std::strtoull(target, nullptr, 10);
        rc = rn_watch_outputs(run, options, static_cast<std::uint32_t>(ms));
    } else if (o == "stop") {
        rc = rn_stop_outputs_watch(run);
    } else {
        rc = RN_E_INVALID_ARGUMENT;
        error = "unknown asset call";
    }
    if (rc != RN_OK && error.empty()) {
        error = rn_last_error();
    }
    Py_END_ALLOW_THREADS;
    if (has_result) {
        return Py_BuildValue("(iss)", rc, error.c_str(), result.c_str());
    }
    return Py_BuildValue("(isO)", rc, error.c_str(), Py_None);
}

PyMethodDef g_asset_functions[] = {
    {"_assets_call", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&assets_call)),
     METH_VARARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int runicorn_python_add_asset_functions(PyObject* m) {
    return PyModule_AddFunctions(m, g_asset_functions);
}
