set(RUNICORN_SOURCE_ROOT "${CMAKE_CURRENT_LIST_DIR}/..")

# runicorn_add_plugin(<id> [SOURCES src...] [LIBS lib...] [DEFINITIONS d...] [DIR d] [OUT_DIR d]
#                     [ALLOW_UNDEFINED])
#
# Builds plugins/<id> as a hidden-visibility MODULE that links only runicorn::plugin_api and its own
# dependencies, puts it in ${RUNICORN_PLUGIN_OUT}/<id>/ beside a copy of plugin.json, data/ and
# locales/, and installs the same layout under ${RUNICORN_INSTALL_PLUGIN_DIR}/<id>/. Without
# SOURCES it is a data-only plugin: only its files are copied.
function(runicorn_add_plugin id)
  cmake_parse_arguments(ARG "ALLOW_UNDEFINED" "DIR;OUT_DIR" "SOURCES;LIBS;DEFINITIONS" ${ARGN})
  if(NOT ARG_DIR)
    set(ARG_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  if(NOT ARG_OUT_DIR)
    set(ARG_OUT_DIR "${RUNICORN_PLUGIN_OUT}/${id}")
  endif()
  set(target "runicorn_plugin_${id}")
  configure_file("${ARG_DIR}/plugin.json" "${ARG_OUT_DIR}/plugin.json" COPYONLY)
  file(GLOB_RECURSE data_files CONFIGURE_DEPENDS
       RELATIVE "${ARG_DIR}" "${ARG_DIR}/data/*" "${ARG_DIR}/locales/*")
  foreach(f IN LISTS data_files)
    configure_file("${ARG_DIR}/${f}" "${ARG_OUT_DIR}/${f}" COPYONLY)
  endforeach()
  if(ARG_SOURCES)
    add_library(${target} MODULE ${ARG_SOURCES})
    set_target_properties(${target} PROPERTIES
      OUTPUT_NAME "${id}"
      LIBRARY_OUTPUT_DIRECTORY "${ARG_OUT_DIR}"
      CXX_VISIBILITY_PRESET hidden
      VISIBILITY_INLINES_HIDDEN ON)
    target_link_libraries(${target} PRIVATE runicorn::plugin_api ${ARG_LIBS})
    target_compile_definitions(${target} PRIVATE ${ARG_DEFINITIONS})
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # STB_GNU_UNIQUE symbols (inline statics of visible classes) make dlclose() a no-op, so a
      # plugin could never be unloaded; plain weak symbols are enough with rtld_local.
      target_compile_options(${target} PRIVATE -fno-gnu-unique)
    endif()
    target_link_options(${target} PRIVATE
      "LINKER:--version-script=${RUNICORN_SOURCE_ROOT}/cmake/plugin.map")
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS
                 "${RUNICORN_SOURCE_ROOT}/cmake/plugin.map")
    if(NOT ARG_ALLOW_UNDEFINED)
      # Refuse undefined symbols at link time; the loader's rtld_now would refuse them anyway.
      target_link_options(${target} PRIVATE "LINKER:--no-undefined")
    endif()
  endif()
endfunction()

# runicorn_install_plugin(<id>): installs a plugin built by runicorn_add_plugin.
function(runicorn_install_plugin id)
  set(out "${RUNICORN_PLUGIN_OUT}/${id}")
  install(DIRECTORY "${out}/" DESTINATION "${RUNICORN_INSTALL_PLUGIN_DIR}/${id}"
          USE_SOURCE_PERMISSIONS)
endfunction()

# runicorn_add_test(<file.cpp> [LIBS lib...] [LABELS l...]): one GoogleTest executable whose tests
# CTest discovers when it runs them (build stays fast; discovery needs no extra build step).
function(runicorn_add_test file)
  cmake_parse_arguments(ARG "" "" "LIBS;LABELS;SOURCES" ${ARGN})
  get_filename_component(name "${file}" NAME_WE)
  add_executable(${name} "${file}" ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE GTest::gtest GTest::gmock GTest::gtest_main
                        runicorn::test_support ${ARG_LIBS})
  set(props "")
  if(ARG_LABELS)
    set(props PROPERTIES LABELS "${ARG_LABELS}")
  endif()
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST ${props})
endfunction()
