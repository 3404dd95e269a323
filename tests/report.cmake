cerv_test(test_figures SOURCES test_figures.cpp LIBS cervirisk_report PkgConfig::CAIRO LABELS unit)
cerv_test(test_report SOURCES test_report.cpp LIBS cervirisk_report PkgConfig::CAIRO nlohmann_json::nlohmann_json LABELS unit)
# Loads a report.html in headless Chromium (Debian's `chromium`) and checks the screenshot.
cerv_test(test_report_chromium SOURCES test_report_chromium.cpp LIBS cervirisk_report PkgConfig::CAIRO LABELS slow)
add_dependencies(test_report cervirisk_cli)
# Table 1 with p-values against R (tests/data/stats/group_tests.json, scripts/table1_golden.R).
cerv_test(test_table1 SOURCES test_table1.cpp LIBS cervirisk_report nlohmann_json::nlohmann_json LABELS unit)
