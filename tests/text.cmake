# Tokenizer (torch-free) and BERT / MLM pretraining (torch) tests; fixtures in tests/data/text
# (made by scripts/make_text_tokenizer_goldens.py and scripts/make_text_bert_reference.py).
cerv_test(test_tokenizer SOURCES test_tokenizer.cpp LIBS cervirisk_text)
add_dependencies(test_tokenizer cervirisk_cli)
cerv_test(test_bert SOURCES test_bert.cpp LIBS cervirisk_models cervirisk_data cervirisk_text cervirisk_io TORCH)
add_dependencies(test_bert cervirisk_cli)
