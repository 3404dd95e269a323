# Statistics library (src/stats), the CSV table reader (src/io/table) and `cervirisk stats`.
# Reference data and goldens: tests/data/stats (its PROVENANCE.md names the source and the
# generating script of each file).
cerv_test(test_stats SOURCES test_stats.cpp test_stats_survival.cpp test_stats_calibration.cpp stats_test_util.cpp
          LIBS cervirisk_stats cervirisk_io nlohmann_json::nlohmann_json)
cerv_test(test_stats_table SOURCES test_stats_table.cpp LIBS cervirisk_io)
cerv_test(test_stats_cli SOURCES test_stats_cli.cpp LIBS cervirisk_core nlohmann_json::nlohmann_json)
add_dependencies(test_stats_cli cervirisk_cli)
# Table 1 group comparisons (chisq.test, kruskal.test, oneway.test): scripts/table1_golden.R.
cerv_test(test_stats_group SOURCES test_stats_group.cpp LIBS cervirisk_stats nlohmann_json::nlohmann_json LABELS unit)
# Logistic regression, nested LR test, NRI / IDI, maxstat Lau94 / Lau92, reverse-KM follow-up:
# scripts/stats_goldens_incremental.R.
cerv_test(test_stats_incremental SOURCES test_stats_incremental.cpp stats_test_util.cpp
          LIBS cervirisk_stats cervirisk_io nlohmann_json::nlohmann_json LABELS unit)
