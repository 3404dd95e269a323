# Explanation timing (bench/explain.sh compares it with the numpy implementation).
add_executable(bench_explain ${CMAKE_CURRENT_LIST_DIR}/explain_bench.cpp)
target_link_libraries(bench_explain PRIVATE cervirisk_explain)
cerv_warnings(bench_explain)
