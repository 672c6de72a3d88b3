#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <runicorn/result.hpp>

namespace runicorn::http_plugin::archive {

/// One part of a multipart/form-data body.
struct FormPart {
    std::string name;          ///< The form field name.
    std::string filename;      ///< The file name the client sent ("" when none).
    std::string_view content;  ///< Points into the body passed to find_form_part().
};

/// Finds the first part named `field` in a multipart/form-data `body` whose Content-Type header
/// is `content_type` (RFC 7578). INVALID_ARGUMENT when the type is not multipart/form-data, has
/// no boundary, or the body is malformed; NOT_FOUND when no part has that name.
/// Pure function; thread-safe.
Result<FormPart> find_form_part(std::string_view content_type, std::string_view body,
                                std::string_view field);

}  // namespace runicorn::http_plugin::archive
