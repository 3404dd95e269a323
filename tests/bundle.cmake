# The model bundle (src/bundle): write -> load round trip, damaged and foreign bundles.
cerv_test(test_bundle SOURCES test_bundle.cpp LIBS cervirisk_bundle LABELS unit TORCH)
target_include_directories(test_bundle PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
