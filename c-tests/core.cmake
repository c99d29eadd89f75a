# c-tests/core.cmake - the tests that link the library's objects rather than the shared library
# (the wipc_core and wipc_static targets of the root CMakeLists.txt). Included at the end of
# c-tests/CMakeLists.txt; uses its wipc_cmocka and WIPC_TEST_TIMEOUT.
#   test_unit        white-box unit tests of internal functions (wipc_core's objects, dll/ headers)
#   static_consumer  tests/consumer/consumer.c linked against wipc_static (WIPC_STATIC): a program
#                    with wipc linked in works like one using the DLL / .so (Linux, and Wine on win64)
add_executable(static_consumer ${PROJECT_SOURCE_DIR}/tests/consumer/consumer.c)
target_link_libraries(static_consumer PRIVATE wipc_static)
set_target_properties(static_consumer PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${WIPC_TEST_OUTPUT_DIR})
if(WIN32)
  target_compile_definitions(static_consumer PRIVATE WIN32_LEAN_AND_MEAN __USE_MINGW_ANSI_STDIO=1)
  target_link_options(static_consumer PRIVATE -static -static-libgcc)
endif()
add_test(NAME static_consumer COMMAND static_consumer)
set_tests_properties(static_consumer PROPERTIES TIMEOUT 120 PASS_REGULAR_EXPRESSION "consumer: OK")

if(TARGET wipc_cmocka)
  add_executable(test_unit ${CMAKE_CURRENT_SOURCE_DIR}/test_unit.c)
  target_link_libraries(test_unit PRIVATE wipc_core wipc_cmocka)
  target_compile_definitions(test_unit PRIVATE WIPC_STATIC)
  set_target_properties(test_unit PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${WIPC_TEST_OUTPUT_DIR})
  if(WIN32)
    target_link_options(test_unit PRIVATE -static -static-libgcc)
  endif()
  add_test(NAME test_unit COMMAND test_unit)
  set_tests_properties(test_unit PROPERTIES TIMEOUT ${WIPC_TEST_TIMEOUT})
endif()
