# Model family tests (ConvNeXt, dual-path ViT, fusion, clinical encoder, registry, weights CLI).
# Fixtures: tests/data/models, written by scripts/make_models_fixtures.py (python3-torch, torchvision).
cerv_test(test_convnext SOURCES test_convnext.cpp LIBS cervirisk_models TORCH)
cerv_test(test_vit SOURCES test_vit.cpp LIBS cervirisk_models TORCH)
cerv_test(test_fusion SOURCES test_fusion.cpp LIBS cervirisk_models cervirisk_core TORCH)
add_dependencies(test_fusion cervirisk_cli)
# Pretrained initialisations (tests/data/pretrained, scripts/make_pretrained_fixtures.py).
cerv_test(test_pretrained SOURCES test_pretrained.cpp LIBS cervirisk_models cervirisk_core TORCH)
