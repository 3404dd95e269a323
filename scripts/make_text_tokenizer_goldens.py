#!/usr/bin/python3
"""Writes the tokenizer fixtures of tests/data/text/: vocab.txt (a small hand-chosen vocabulary),
tokenizer_cases.json (the inputs) and tokenizer_goldens.jsonl (the tokens and ids produced by
scripts/text_reference_tokenizer.py, the HF algorithm in plain Python + unicodedata).

Run from the repository root:  /usr/bin/python3 scripts/make_text_tokenizer_goldens.py
"""
import json
import os
import subprocess
import sys

OUT = os.path.join("tests", "data", "text")
os.makedirs(OUT, exist_ok=True)

specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
punct = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + list("，。、；：？！（）《》“”‘’—…·【】") + ["–", "—", "¿"]
digits = [str(i) for i in range(10)] + ["##" + str(i) for i in range(10)] + ["12", "##5", "##cm", "##mm"]
latin = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "m", "n", "o", "s", "t", "x", "y", "z",
         "##a", "##b", "##c", "##d", "##e", "##i", "##n", "##o", "##r", "##s", "##t", "##y", "##z", "##l", "##m",
         "mri", "t2wi", "dwi", "figo", "ii", "##b", "the", "tumor", "tumour", "cervix", "cerv", "##ical", "##ix",
         "left", "right", "side", "size", "lesion", "##s", "signal", "high", "low", "cm", "mm", "of", "and", "in",
         "cafe", "resume", "naive", "angstrom", "café", "résumé", "Café", "MRI", "Tumor", "The", "##é", "é",
         "para", "##metr", "##ium", "invasion", "no", "lymph", "node", "##nodes", "see", "dr", "angle",
         "pneumono", "##ultra", "##micro", "##scopic", "##silico", "##volcano", "##coniosis",
         "οδος", "οδοσ", "istanbul", "i̇stanbul", "i̇", "##stanbul", "hello", "world", "±", "°", "×", "€", "😀",
         "ｍｒｉ", "ｔ", "##２", "##ｗｉ", "ＭＲＩ", "１", "##２", "##ｍｍ", "ｍｍ"]
cjk = list("宫颈后唇见一大小约的异常信号影呈稍高低侵犯左右侧旁癌期示肿块未淋巴结肿大盆腔积液增强扫描明显强化"
           "体部前壁基质浸润深度阴道上段受累膀胱直肠清晰考虑恶性病变鳞状细胞建议结合临床") + ["𠀀", "豈"]
vocab = []
for t in specials + punct + digits + latin + cjk:
    if t not in vocab:
        vocab.append(t)
with open(os.path.join(OUT, "vocab.txt"), "w", encoding="utf-8") as f:
    f.write("\n".join(vocab) + "\n")

zh = "宫颈后唇见一大小约3.2cm×2.5cm的异常信号影，T2WI呈稍高信号，DWI呈高信号。"
cases = [
    {"name": "zh_report", "text": zh},
    {"name": "zh_report2", "text": "宫颈体部前壁见肿块，基质浸润深度>1/2，阴道上段受累；膀胱、直肠清晰。考虑恶性病变（鳞状细胞癌？），建议结合临床。"},
    {"name": "zh_en_mixed", "text": "MRI示宫颈癌（FIGO IIB期），侵犯左侧宫旁 parametrium invasion; no lymph nodes."},
    {"name": "zh_en_mixed_cased", "text": "MRI示宫颈癌（FIGO IIB期），The Tumor 左侧", "lowercase": False},
    {"name": "fullwidth", "text": "ＭＲＩ　Ｔ２ＷＩ：１２ｍｍ，（左）"},
    {"name": "fullwidth_cased", "text": "ＭＲＩ　Ｔ２ＷＩ：１２ｍｍ", "lowercase": False},
    {"name": "accents_default", "text": "Café résumé naïve Ångström"},
    {"name": "accents_decomposed", "text": "Cafe\u0301 re\u0301sume\u0301"},
    {"name": "accents_cased_kept", "text": "Café résumé", "lowercase": False},
    {"name": "accents_lower_no_strip", "text": "Café RÉSUMÉ", "lowercase": True, "strip_accents": False},
    {"name": "accents_cased_strip", "text": "Café résumé", "lowercase": False, "strip_accents": True},
    {"name": "punct_symbols", "text": "size: 3.5±0.2 cm; 45° angle (left) — see #3 & @dr ~ ^ ` | $5 €12 ×2 ¿what?"},
    {"name": "zh_punct", "text": "《报告》“左侧”‘右侧’……【示】·、"},
    {"name": "control_chars", "text": "a\x00b\tc\u200bd\x07e\r\nf\ufffdg\u2028h\x0bi\x85j\u00a0k\u3000l"},
    {"name": "zero_width_and_bidi", "text": "left\u200d\u200e\u202eside\ufeff tumor"},
    {"name": "long_word_100", "text": "a" * 100},
    {"name": "long_word_101", "text": "tumor " + "a" * 101 + " tumor"},
    {"name": "long_real_word", "text": "pneumonoultramicroscopicsilicovolcanoconiosis"},
    {"name": "unk_pieces", "text": "xyzqw tumors qqq cervical"},
    {"name": "specials_unsplit", "text": "[CLS] hello [MASK] world[SEP][PAD] [unk] [UNK]x"},
    {"name": "greek_sigma", "text": "ΟΔΟΣ οδος"},
    {"name": "turkish_dotted_i", "text": "İstanbul"},
    {"name": "cjk_ext_and_compat", "text": "𠀀\uf900豈宫"},
    {"name": "cjk_compat_cased", "text": "\uf900豈", "lowercase": False},
    {"name": "kana_hangul_not_cjk", "text": "ひらがな 안녕 宫"},
    {"name": "emoji", "text": "tumor😀 😀"},
    {"name": "empty", "text": ""},
    {"name": "only_spaces", "text": " \t\n  "},
]
# Random mixtures (seeded) drawn from every character class above, in all four settings.
import random
rng = random.Random(12345)
pool = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") + list(" " * 12) +
        list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + list("，。、；：？！（）《》“”…·【】") +
        list("宫颈后唇见大小约信号影呈高低侵犯左右侧旁癌期示肿块") + ["𠀀", "\uf900"] +
        list("éèêëïöüçñåÅÉÑ") + ["\u0301", "\u0308", "\u0327"] + list("ＭＲＩＴ２１ｍ　") +
        list("ΣσςΑΒΓİıß") + ["\x00", "\x07", "\t", "\n", "\r", "\u200b", "\u200d", "\ufeff", "\ufffd", "\u2028", "\x85", "\xa0"] +
        list("°±×€😀ひら안") + ["[MASK]", "[CLS]", "tumor", "cervical", "signal"])
settings = [(True, None), (False, None), (True, False), (False, True)]
for i in range(40):
    text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 60)))
    lc, sa = settings[i % 4]
    case = {"name": "random_%02d" % i, "text": text, "lowercase": lc}
    if sa is not None:
        case["strip_accents"] = sa
    cases.append(case)
with open(os.path.join(OUT, "tokenizer_cases.json"), "w", encoding="utf-8") as f:
    json.dump(cases, f, ensure_ascii=False, indent=1)
here = os.path.dirname(os.path.abspath(__file__))
subprocess.check_call([sys.executable, os.path.join(here, "text_reference_tokenizer.py"), "goldens",
                       os.path.join(OUT, "vocab.txt"), os.path.join(OUT, "tokenizer_cases.json"),
                       os.path.join(OUT, "tokenizer_goldens.jsonl")])
