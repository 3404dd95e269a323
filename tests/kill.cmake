# kill -9 at 20 moments across a demo-sized study, each followed by `study --resume`: every chain
# ends with the uninterrupted run's folder (label slow: 12 minutes on 2 cores; 51 when other builds
# and tests keep them busy).
cerv_test(test_kill SOURCES test_kill.cpp LIBS cervirisk_core LABELS slow)
add_dependencies(test_kill cervirisk_cli)
