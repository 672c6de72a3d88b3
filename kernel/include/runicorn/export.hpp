#pragma once

#include <boost/config.hpp>

/// Marks a type whose identity (vtable, typeinfo) must be shared between the kernel and the
/// plugins: service interfaces, the plugin base class and any exception type that crosses a
/// boundary. Everything else in a plugin stays hidden (CXX_VISIBILITY_PRESET hidden).
#define RUNICORN_PLUGIN_API BOOST_SYMBOL_VISIBLE
