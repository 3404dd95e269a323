#!/usr/bin/python3
"""Reference BERT WordPiece tokenizer, independent of the C++ code (src/text).

The algorithm of HuggingFace tokenizers' BertNormalizer + BertPreTokenizer + WordPiece
(tokenizers/src/normalizers/bert.rs, pre_tokenizers/bert.rs, models/wordpiece/mod.rs),
written with Python's unicodedata only:
  clean text (drop NUL, U+FFFD and category C* except \\t\\n\\r; White_Space -> ' ')
  -> pad CJK ideographs (HF's code-point ranges) with spaces
  -> strip accents (NFD, drop Mn; default: follows lowercase)
  -> lowercase (per character, full case mapping)
  -> split on whitespace, isolate punctuation (ASCII punctuation or category P*)
  -> WordPiece greedy longest match with '##' continuation, words over 100 chars -> [UNK].
Special tokens ([CLS], [SEP], [MASK], [PAD], [UNK]) are matched in the raw text first and
never split (tokenizers' AddedVocabulary).

Usage:
  text_reference_tokenizer.py goldens VOCAB CASES.json OUT.jsonl
  text_reference_tokenizer.py bench VOCAB REPORTS.txt      (reports per second, one per line)
  text_reference_tokenizer.py tokenize VOCAB TEXT...
"""
import json
import sys
import time
import unicodedata

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# Python's str.isspace() is wider than Unicode White_Space (it includes \x1c-\x1f);
# Rust's char::is_whitespace is exactly White_Space (PropList.txt).
WHITE_SPACE = set([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029,
                   0x202F, 0x205F, 0x3000] + list(range(0x2000, 0x200B)))


def is_whitespace(c):
    return c in "\t\n\r" or ord(c) in WHITE_SPACE


def is_control(c):
    if c in "\t\n\r":
        return False
    return unicodedata.category(c).startswith("C")


def is_punctuation(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def normalize(text, lowercase=True, strip_accents=None):
    out = []
    for c in text:
        cp = ord(c)
        if cp == 0 or cp == 0xFFFD or is_control(c):
            continue
        out.append(" " if is_whitespace(c) else c)
    text = "".join(" " + c + " " if is_cjk(ord(c)) else c for c in out)
    if strip_accents is None:
        strip_accents = lowercase
    if strip_accents:
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    if lowercase:
        text = "".join(c.lower() for c in text)
    return text


def pre_tokenize(text):
    words, cur = [], []
    for c in text:
        if is_whitespace(c):
            if cur:
                words.append("".join(cur))
                cur = []
        elif is_punctuation(c):
            if cur:
                words.append("".join(cur))
                cur = []
            words.append(c)
        else:
            cur.append(c)
    if cur:
        words.append("".join(cur))
    return words


def wordpiece(word, vocab, unk="[UNK]", max_chars=100):
    if len(word) > max_chars:
        return [unk]
    pieces, start = [], 0
    while start < len(word):
        end, cur = len(word), None
        while start < end:
            sub = word[start:end]
            if start > 0:
                sub = "##" + sub
            if sub in vocab:
                cur = sub
                break
            end -= 1
        if cur is None:
            return [unk]
        pieces.append(cur)
        start = end
    return pieces


def split_specials(text):
    segs, i = [], 0
    while i < len(text):
        hit = None
        for s in SPECIALS:
            if text.startswith(s, i):
                hit = s
                break
        if hit:
            segs.append((True, hit))
            i += len(hit)
        else:
            j = i
            while j < len(text) and not any(text.startswith(s, j) for s in SPECIALS):
                j += 1
            segs.append((False, text[i:j]))
            i = j
    return segs


def tokenize(text, vocab, lowercase=True, strip_accents=None):
    tokens = []
    for special, seg in split_specials(text):
        if special:
            tokens.append(seg)
            continue
        for w in pre_tokenize(normalize(seg, lowercase, strip_accents)):
            tokens.extend(wordpiece(w, vocab))
    return tokens


def load_vocab(path):
    vocab = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            vocab[line.rstrip("\n")] = i
    return vocab


def main():
    cmd, vocab = sys.argv[1], load_vocab(sys.argv[2])
    if cmd == "goldens":
        cases = json.load(open(sys.argv[3], encoding="utf-8"))
        with open(sys.argv[4], "w", encoding="utf-8") as out:
            for c in cases:
                lc = c.get("lowercase", True)
                sa = c.get("strip_accents", None)
                toks = tokenize(c["text"], vocab, lc, sa)
                rec = {"name": c["name"], "text": c["text"], "lowercase": lc, "strip_accents": sa,
                       "tokens": toks, "ids": [vocab[t] for t in toks]}
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    elif cmd == "bench":
        reports = [l.rstrip("\n") for l in open(sys.argv[3], encoding="utf-8")]
        t0 = time.perf_counter()
        n_tok = 0
        for r in reports:
            n_tok += len(tokenize(r, vocab))
        dt = time.perf_counter() - t0
        print(json.dumps({"reports": len(reports), "tokens": n_tok, "seconds": dt,
                          "reports_per_s": len(reports) / dt}))
    elif cmd == "tokenize":
        for t in sys.argv[3:]:
            toks = tokenize(t, vocab)
            print(json.dumps({"text": t, "tokens": toks, "ids": [vocab[x] for x in toks]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
