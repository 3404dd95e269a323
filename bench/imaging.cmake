# Preprocessing throughput against nibabel + scipy.ndimage (bench/imaging.sh).
add_executable(bench_imaging ${CMAKE_CURRENT_SOURCE_DIR}/imaging_bench.cpp)
target_link_libraries(bench_imaging PRIVATE cervirisk_imaging)
set_target_properties(bench_imaging PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
cerv_warnings(bench_imaging)
