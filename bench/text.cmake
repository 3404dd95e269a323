# Text benchmark program (tokenizer throughput, BERT forward latency); run by bench/text.sh.
add_executable(text_bench ${CMAKE_CURRENT_SOURCE_DIR}/text_bench.cpp)
target_link_libraries(text_bench PRIVATE cervirisk_models cervirisk_text cervirisk_core_torch cervirisk_core)
cerv_warnings(text_bench)
cerv_torch_pch(text_bench)
