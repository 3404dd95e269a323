cerv_test(test_core SOURCES test_core.cpp LIBS cervirisk_core cervirisk_core_torch)
cerv_test(test_sandbox SOURCES test_sandbox.cpp LIBS cervirisk_core)
cerv_test(test_cli SOURCES test_cli.cpp LIBS cervirisk_core)
add_dependencies(test_cli cervirisk_cli)
