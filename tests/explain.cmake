cerv_test(test_explain SOURCES test_explain.cpp LIBS cervirisk_explain nlohmann_json::nlohmann_json LABELS unit TORCH)
