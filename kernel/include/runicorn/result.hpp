#pragma once

#include <stdexcept>
#include <string>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <runicorn/export.hpp>
#include <runicorn/status.hpp>

namespace runicorn {

/// Thrown by Result<T>::value() when the result holds an error. Prefer checking has_value() or the
/// RUNICORN_ASSIGN_OR_RETURN macro; this exists so value() on an error is a clear failure, not UB.
/// It never crosses a plugin boundary: the call wrappers turn it back into a Status.
class RUNICORN_PLUGIN_API StatusError : public std::runtime_error {
public:
    explicit StatusError(Status status)
        : std::runtime_error(status.to_string()), status_(std::move(status)) {}
    const Status& status() const noexcept { return status_; }

private:
    Status status_;
};

/// Found by argument-dependent lookup from boost::system::result<T, Status>::value().
[[noreturn]] inline void throw_exception_from_error(const Status& status,
                                                    const boost::source_location& /*loc*/) {
    throw StatusError(status);
}

/// A value or the Status that explains why there is none. An error Result never holds an OK
/// Status (callers construct errors only from failed statuses).
template <class T>
using Result = boost::system::result<T, Status>;

}  // namespace runicorn

#define RUNICORN_STATUS_CONCAT_IMPL(a, b) a##b
#define RUNICORN_STATUS_CONCAT(a, b) RUNICORN_STATUS_CONCAT_IMPL(a, b)

/// Evaluates expr (a Status); returns it from the enclosing function when it is not OK.
#define RUNICORN_RETURN_IF_ERROR(expr)                    \
    do {                                                  \
        ::runicorn::Status runicorn_status_tmp_ = (expr); \
        if (!runicorn_status_tmp_.is_ok()) {              \
            return runicorn_status_tmp_;                  \
        }                                                 \
    } while (false)

// `lhs` may be a declaration ("auto x"), which cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
/// Evaluates expr (a Result<T>); on error returns its Status, else moves the value into lhs
/// (which may be a declaration: `RUNICORN_ASSIGN_OR_RETURN(auto x, f());`).
#define RUNICORN_ASSIGN_OR_RETURN(lhs, expr) \
    RUNICORN_ASSIGN_OR_RETURN_IMPL(RUNICORN_STATUS_CONCAT(runicorn_result_, __LINE__), lhs, expr)

#define RUNICORN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
    auto tmp = (expr);                                 \
    if (!tmp.has_value()) {                            \
        return tmp.error();                            \
    }                                                  \
    lhs = std::move(*tmp)
// NOLINTEND(bugprone-macro-parentheses)
