# C++ driver for bench/stats.sh: times the statistics library on synthetic data written by R.
add_executable(stats_bench ${CMAKE_CURRENT_SOURCE_DIR}/stats_bench.cpp)
target_link_libraries(stats_bench PRIVATE cervirisk_stats)
cerv_warnings(stats_bench)
set_target_properties(stats_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
