# c-tests/idle.cmake - test_idle: an idle wipc process wakes no thread and uses no CPU tick
# (Linux: it reads /proc). c-tests/idle_scene.c is also built into bench/wipc_bench (idle.ticks).
if(NOT _cmocka_found OR WIN32)
  return()
endif()
wipc_test_executable(test_idle ${CMAKE_CURRENT_SOURCE_DIR}/test_idle.c ${CMAKE_CURRENT_SOURCE_DIR}/idle_scene.c)
target_link_libraries(test_idle PRIVATE wipc_cmocka)
add_test(NAME test_idle COMMAND test_idle)
set_tests_properties(test_idle PROPERTIES TIMEOUT 120)
