# Full disks and read-only output folders (synth, study + --resume, report, the service's
# temporary files) on small tmpfs mounts (needs root or CAP_SYS_ADMIN, else skipped); label slow:
# several trainings.
cerv_test(test_faults SOURCES test_faults.cpp LIBS cervirisk_core PkgConfig::HTTPLIB LABELS slow)
add_dependencies(test_faults cervirisk_cli)
