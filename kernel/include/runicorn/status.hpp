#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace runicorn {

/// The canonical error codes (a subset of Abseil's). The numeric values are part of the plugin ABI
/// and of the C ABI's status codes: they never change, new codes are only appended.
enum class StatusCode : std::uint8_t {
    kOk = 0,
    kCancelled = 1,
    kUnknown = 2,
    kInvalidArgument = 3,
    kDeadlineExceeded = 4,
    kNotFound = 5,
    kAlreadyExists = 6,
    kPermissionDenied = 7,
    kResourceExhausted = 8,
    kFailedPrecondition = 9,
    kAborted = 10,
    kOutOfRange = 11,
    kUnimplemented = 12,
    kInternal = 13,
    kUnavailable = 14,
    kDataLoss = 15,
};

/// Returns the canonical name of a code ("OK", "INVALID_ARGUMENT", ...).
constexpr std::string_view status_code_name(StatusCode code) noexcept {
    switch (code) {
        case StatusCode::kOk:
            return "OK";
        case StatusCode::kCancelled:
            return "CANCELLED";
        case StatusCode::kUnknown:
            return "UNKNOWN";
        case StatusCode::kInvalidArgument:
            return "INVALID_ARGUMENT";
        case StatusCode::kDeadlineExceeded:
            return "DEADLINE_EXCEEDED";
        case StatusCode::kNotFound:
            return "NOT_FOUND";
        case StatusCode::kAlreadyExists:
            return "ALREADY_EXISTS";
        case StatusCode::kPermissionDenied:
            return "PERMISSION_DENIED";
        case StatusCode::kResourceExhausted:
            return "RESOURCE_EXHAUSTED";
        case StatusCode::kFailedPrecondition:
            return "FAILED_PRECONDITION";
        case StatusCode::kAborted:
            return "ABORTED";
        case StatusCode::kOutOfRange:
            return "OUT_OF_RANGE";
        case StatusCode::kUnimplemented:
            return "UNIMPLEMENTED";
        case StatusCode::kInternal:
            return "INTERNAL";
        case StatusCode::kUnavailable:
            return "UNAVAILABLE";
        case StatusCode::kDataLoss:
            return "DATA_LOSS";
    }
    return "UNKNOWN";
}

/// The outcome of an operation that can fail in a way the caller may handle: a code plus a
/// human-readable message. An OK status carries no message. A returned Status must be used.
///
/// Messages are user-facing: they name the file, the symbol and the reason, and tests assert on
/// them verbatim. Context is added on the way up with with_context() ("loading plugin 'x': ...").
///
/// Thread safety: a Status is a value; distinct objects are safe for concurrent use, one object is
/// externally synchronized.
class [[nodiscard]] Status {
public:
    /// An OK status.
    Status() noexcept = default;
    Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {
        if (code_ == StatusCode::kOk) {
            message_.clear();
        }
    }

    static Status ok() noexcept { return {}; }
    static Status cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
    static Status unknown(std::string msg) { return {StatusCode::kUnknown, std::move(msg)}; }
    static Status invalid_argument(std::string msg) {
        return {StatusCode::kInvalidArgument, std::move(msg)};
    }
    static Status deadline_exceeded(std::string msg) {
        return {StatusCode::kDeadlineExceeded, std::move(msg)};
    }
    static Status not_found(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
    static Status already_exists(std::string msg) {
        return {StatusCode::kAlreadyExists, std::move(msg)};
    }
    static Status permission_denied(std::string msg) {
        return {StatusCode::kPermissionDenied, std::move(msg)};
    }
    static Status resource_exhausted(std::string msg) {
        return {StatusCode::kResourceExhausted, std::move(msg)};
    }
    static Status failed_precondition(std::string msg) {
        return {StatusCode::kFailedPrecondition, std::move(msg)};
    }
    static Status aborted(std::string msg) { return {StatusCode::kAborted, std::move(msg)}; }
    static Status out_of_range(std::string msg) {
        return {StatusCode::kOutOfRange, std::move(msg)};
    }
    static Status unimplemented(std::string msg) {
        return {StatusCode::kUnimplemented, std::move(msg)};
    }
    static Status internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
    static Status unavailable(std::string msg) {
        return {StatusCode::kUnavailable, std::move(msg)};
    }
    static Status data_loss(std::string msg) { return {StatusCode::kDataLoss, std::move(msg)}; }

    bool is_ok() const noexcept { return code_ == StatusCode::kOk; }
    StatusCode code() const noexcept { return code_; }
    const std::string& message() const noexcept { return message_; }

    /// Returns this status with "<context>: " put before the message; OK stays OK.
    Status with_context(std::string_view context) const {
        if (is_ok()) {
            return *this;
        }
        std::string msg;
        msg.reserve(context.size() + 2 + message_.size());
        msg.append(context).append(": ").append(message_);
        return {code_, std::move(msg)};
    }

    /// "OK" or "<CODE_NAME>: <message>".
    std::string to_string() const {
        if (is_ok()) {
            return "OK";
        }
        std::string out(status_code_name(code_));
        out.append(": ").append(message_);
        return out;
    }

    friend bool operator==(const Status& a, const Status& b) noexcept {
        return a.code_ == b.code_ && a.message_ == b.message_;
    }

    friend std::ostream& operator<<(std::ostream& os, const Status& s) {
        return os << s.to_string();
    }

private:
    StatusCode code_ = StatusCode::kOk;
    std::string message_;
};

/// Shorthand for an OK status.
inline Status ok_status() noexcept { return {}; }

}  // namespace runicorn
