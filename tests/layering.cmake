# The module layering of docs/architecture.md: src/ holds it, and the check fails on a tree
# that breaks it (tests/data/layering: core includes the study).
add_test(NAME layering.src COMMAND ${CMAKE_COMMAND} -DSRC=${PROJECT_SOURCE_DIR}/src -P ${PROJECT_SOURCE_DIR}/cmake/check_layering.cmake)
add_test(NAME layering.detects_violation COMMAND ${CMAKE_COMMAND} -DSRC=${PROJECT_SOURCE_DIR}/tests/data/layering/src
         -P ${PROJECT_SOURCE_DIR}/cmake/check_layering.cmake)
set_tests_properties(layering.src PROPERTIES LABELS unit)
set_tests_properties(layering.detects_violation PROPERTIES LABELS unit
                     PASS_REGULAR_EXPRESSION "src/core/bad.h: #include \"study/study.h\" \\(core may include only: \\)")
