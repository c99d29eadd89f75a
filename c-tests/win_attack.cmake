# c-tests/win_attack.cmake - Windows-only attacks: test_attack_win (cmocka) and
# its attacker win_attacker, a plain Win32 program that does not link wipc. Included at the end of
# c-tests/CMakeLists.txt on WIN32 builds; run under Wine by ctest like the other suites. Its cases
# print RELIABILITY| lines (label reliability) for docs/RELIABILITY.md.
add_executable(win_attacker ${CMAKE_CURRENT_SOURCE_DIR}/win_attacker.c)
target_compile_definitions(win_attacker PRIVATE UNICODE _UNICODE _WIN32_WINNT=0x0602 WIN32_LEAN_AND_MEAN)
target_link_libraries(win_attacker PRIVATE user32)
target_link_options(win_attacker PRIVATE -static -static-libgcc)
set_target_properties(win_attacker PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${WIPC_TEST_OUTPUT_DIR})
if(NOT TARGET wipc_cmocka)
  return()
endif()
wipc_test_executable(test_attack_win ${CMAKE_CURRENT_SOURCE_DIR}/test_attack_win.c)
target_link_libraries(test_attack_win PRIVATE wipc_cmocka)
add_dependencies(test_attack_win win_attacker)
add_test(NAME test_attack_win COMMAND test_attack_win)
set_tests_properties(test_attack_win PROPERTIES TIMEOUT ${WIPC_TEST_TIMEOUT} RUN_SERIAL TRUE LABELS reliability)
