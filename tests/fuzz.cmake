# Every fuzz target's seed corpus and regression inputs (tests/fuzz/corpus/<target>,
# tests/fuzz/regressions/<target>) replayed through its harness: a finding stays fixed.
include(${CMAKE_CURRENT_LIST_DIR}/fuzz/targets.cmake)
foreach(name ${CERV_FUZZ_TARGETS})
  cerv_fuzz_executable(fuzz_replay_${name} ${name} ${CERV_FUZZ_DIR}/replay_main.cpp)
  add_test(NAME Fuzz.${name}
           COMMAND fuzz_replay_${name} ${CERV_FUZZ_DIR}/corpus/${name} ${CERV_FUZZ_DIR}/regressions/${name})
  set_tests_properties(Fuzz.${name} PROPERTIES LABELS unit ENVIRONMENT "CERV_FUZZ_TMP=${CMAKE_CURRENT_BINARY_DIR}")
endforeach()
