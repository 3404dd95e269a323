# cerv_test(NAME SOURCES a.cpp ... LIBS ... [LABELS unit|slow|model ...] [TORCH])
# Builds one GoogleTest executable and registers its tests with CTest under the labels.
# Fixture folders are injected as compile definitions (no relative paths in tests).
find_package(GTest REQUIRED)
include(GoogleTest)
function(cerv_test name)
  cmake_parse_arguments(T "TORCH" "" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main Threads::Threads)
  target_compile_definitions(${name} PRIVATE
    CERV_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    CERV_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data"
    CERV_BINARY="$<TARGET_FILE:cervirisk_cli>")
  cerv_warnings(${name})
  if(T_TORCH)
    target_link_libraries(${name} PRIVATE cerv_torch)
    cerv_torch_pch(${name})
  endif()
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${T_LABELS}" ENVIRONMENT "OMP_NUM_THREADS=2;OMP_WAIT_POLICY=PASSIVE")
endfunction()
