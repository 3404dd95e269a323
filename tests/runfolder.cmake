# The typed run-folder files (src/runfolder): writer -> reader round trips, and corrupt,
# truncated or foreign files refused with exit 4 naming the file, row and field.
cerv_test(test_runfolder SOURCES test_runfolder.cpp LIBS cervirisk_runfolder nlohmann_json::nlohmann_json LABELS unit)
