# Training-step throughput of the C++ trainer (bench/train.sh compares it with Python PyTorch).
add_executable(bench_train ${CMAKE_CURRENT_SOURCE_DIR}/train_bench.cpp)
target_link_libraries(bench_train PRIVATE cervirisk_train)
cerv_warnings(bench_train)
cerv_torch_pch(bench_train)
