# c-tests/reliability.cmake - the reliability and security suite: fault injection across
# processes (test_fault, test_fault_msg), load (test_load, test_load_msg), security proofs
# (test_security), the hardening attacks (test_hardening, attacker hostile_peer), and their helper process rel_peer. Included at the end of c-tests/CMakeLists.txt;
# uses its wipc_test_executable(), wipc_cmocka and WIPC_TEST_TIMEOUT. Every case prints a
# RELIABILITY|... line (test_fault_lib.h) that docs/gen_reliability.py collects into
# docs/RELIABILITY.md; `ctest -L reliability` runs just these. $WIPC_TEST_SCALE scales their counts.
wipc_test_executable(rel_peer ${CMAKE_CURRENT_SOURCE_DIR}/rel_peer.c)
wipc_test_executable(hostile_peer ${CMAKE_CURRENT_SOURCE_DIR}/hostile_peer.c)   # the hardening attacker: OS calls only
if(NOT TARGET wipc_cmocka)
  return()
endif()

foreach(_t test_fault test_fault_msg test_load test_load_msg test_security test_hardening)
  wipc_test_executable(${_t} ${CMAKE_CURRENT_SOURCE_DIR}/${_t}.c)
  target_link_libraries(${_t} PRIVATE wipc_cmocka)
  if(NOT WIN32)
    target_link_libraries(${_t} PRIVATE rt)   # shm_open in test_security
  endif()
  add_dependencies(${_t} rel_peer hostile_peer)
  add_test(NAME ${_t} COMMAND ${_t})
  # cross-process kills, fixed timings and heavy load: never beside other heavy tests
  set_tests_properties(${_t} PROPERTIES TIMEOUT ${WIPC_TEST_TIMEOUT} RUN_SERIAL TRUE LABELS reliability)
endforeach()
