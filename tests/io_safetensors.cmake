# safetensors reader/writer robustness (fixtures: tests/data/safetensors, made by
# scripts/make_safetensors_fixtures.py).
cerv_test(test_safetensors SOURCES test_safetensors.cpp LIBS cervirisk_io)
