# c-tests/proto.cmake: wipc_proto_consts prints the wire-protocol constants of dll/common (frame.h,
# msg_wire.h, shm_layout.h); python-tests/test_protocol_doc.py compares them with docs/PROTOCOL.md.
# Included by c-tests/CMakeLists.txt. It reads internal headers, so it gets dll/ on its include path.
wipc_test_executable(wipc_proto_consts ${CMAKE_CURRENT_SOURCE_DIR}/proto_consts.c)
target_include_directories(wipc_proto_consts PRIVATE ${CMAKE_SOURCE_DIR}/dll ${CMAKE_SOURCE_DIR}/include)
add_test(NAME proto_consts COMMAND wipc_proto_consts ${CMAKE_SOURCE_DIR}/docs/PROTOCOL.md)   # the document vs this build
set_tests_properties(proto_consts PROPERTIES TIMEOUT 60)

# test_foreign: wipc against objects made by plain Win32 / POSIX code.
if(_cmocka_found)
  wipc_test_executable(test_foreign ${CMAKE_CURRENT_SOURCE_DIR}/test_foreign.c)
  target_link_libraries(test_foreign PRIVATE wipc_cmocka)
  if(NOT WIN32)
    target_link_libraries(test_foreign PRIVATE rt)   # shm_open
  endif()
  add_test(NAME test_foreign COMMAND test_foreign)
  set_tests_properties(test_foreign PROPERTIES TIMEOUT ${WIPC_TEST_TIMEOUT})
endif()

# test_lenprefix: WIPC_PIPE_LENGTH_PREFIX against wipc_lp_peer, a foreign length-prefixed pipe
# program in plain Win32 / POSIX code.
wipc_test_executable(wipc_lp_peer ${CMAKE_CURRENT_SOURCE_DIR}/lp_peer.c)
if(_cmocka_found)
  wipc_test_executable(test_lenprefix ${CMAKE_CURRENT_SOURCE_DIR}/test_lenprefix.c)
  target_link_libraries(test_lenprefix PRIVATE wipc_cmocka)
  add_dependencies(test_lenprefix wipc_lp_peer)
  add_test(NAME test_lenprefix COMMAND test_lenprefix)
  set_tests_properties(test_lenprefix PROPERTIES TIMEOUT ${WIPC_TEST_TIMEOUT})
endif()
