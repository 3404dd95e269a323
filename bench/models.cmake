# Forward+backward throughput of convnext_tiny and the cpu-small MSM-TC (bench/models.sh runs it
# against the same architectures in Python PyTorch).
add_executable(bench_models ${CMAKE_CURRENT_LIST_DIR}/models_bench.cpp)
target_link_libraries(bench_models PRIVATE cervirisk_train cervirisk_models cervirisk_core_torch)
cerv_warnings(bench_models)
cerv_torch_pch(bench_models)
set_target_properties(bench_models PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
