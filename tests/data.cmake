cerv_test(test_cohort SOURCES test_cohort.cpp LIBS cervirisk_data)
cerv_test(test_synth SOURCES test_synth.cpp LIBS cervirisk_data)
add_dependencies(test_synth cervirisk_cli)
cerv_test(test_synth_seeds SOURCES test_synth_seeds.cpp LIBS cervirisk_data LABELS slow)
